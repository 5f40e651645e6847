// The workflow bundle's entry: every workflow the payments task queue runs.
export { paymentWorkflow } from './payment.js';
export { watcherWorkflow } from './watcher.js';
