// The workflow bundle's entry: every workflow Stablerail's task queues run. The payments
// worker runs payments; the webhooks worker runs deliveries (one bundle serves both).
export { paymentWorkflow } from './payment.js';
export { reconciliationWorkflow } from './reconciliation.js';
export { webhookDeliveryWorkflow } from './webhook-delivery.js';
export { webhookLaneWorkflow } from './webhook-lane.js';
export { watcherWorkflow } from './watcher.js';
export { payoutWorkflow } from './payout.js';
export { payoutDestinationWorkflow } from './payout-destination.js';
export { sweepWorkflow } from './sweep.js';
export { sweepPlanWorkflow } from './sweep-plan.js';
