// The workflow bundle's entry: every workflow the payments task queue runs.
export { paymentWorkflow } from './payment.js';
export { reconciliationWorkflow } from './reconciliation.js';
