// The workflow bundle's entry: every workflow Stablerail's task queues run. The payments
// worker runs payments; the webhooks worker runs deliveries (one bundle serves both).
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import { paymentWorkflow } from './payment.js';
import { reconciliationWorkflow } from './reconciliation.js';
import { webhookDeliveryWorkflow } from './webhook-delivery.js';
import { webhookLaneWorkflow } from './webhook-lane.js';
import { webhookRecoveryWorkflow } from './webhook-recovery.js';
import { watcherWorkflow } from './watcher.js';
import { payoutWorkflow } from './payout.js';
import { payoutDestinationWorkflow } from './payout-destination.js';
import { sweepWorkflow } from './sweep.js';
import { sweepPlanWorkflow } from './sweep-plan.js';
import { versioningOptionsFor } from './versioning.js';

const WORKFLOWS = { paymentWorkflow, reconciliationWorkflow, webhookDeliveryWorkflow, webhookLaneWorkflow, webhookRecoveryWorkflow, watcherWorkflow, payoutWorkflow, payoutDestinationWorkflow, sweepWorkflow, sweepPlanWorkflow };
// Each type's behavior under Worker Deployment Versioning (workflows/versioning.ts says why),
// asked for when a worker instantiates the workflow, so an unversioned worker reports none.
for (const [name, fn] of Object.entries(WORKFLOWS)) {
  versioningOptionsFor(name, null); // a type missing from the table fails at bundle load, not mid-run
  setWorkflowOptions(() => versioningOptionsFor(name, workflowInfo().currentDeploymentVersion), fn as (...args: unknown[]) => Promise<unknown>);
}

export { paymentWorkflow, reconciliationWorkflow, webhookDeliveryWorkflow, webhookLaneWorkflow, webhookRecoveryWorkflow, watcherWorkflow, payoutWorkflow, payoutDestinationWorkflow, sweepWorkflow, sweepPlanWorkflow };
