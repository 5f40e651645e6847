// Handing an event to webhook delivery, from inside a workflow (payments, payouts): plan the
// deliveries (an activity writes their rows), then one delivery child per subscribed endpoint.
import { ParentClosePolicy, proxyActivities, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { WebhookDispatchActivities } from '../activities/webhooks/delivery.js';
import type { webhookDeliveryWorkflow } from './webhook-delivery.js';
import type { PlannedDelivery } from './webhook-shared.js';
import { TASK_QUEUES } from './shared.js';

const { planDeliveries } = proxyActivities<WebhookDispatchActivities>({
  startToCloseTimeout: '30 seconds',
  // No maximumAttempts: an event must reach its endpoints, and planning is idempotent.
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * ABANDON: an object whose workflow ends never cancels a pending delivery. The child id is
 * derived from event and endpoint, so a replayed or retried dispatch finds the child already
 * started instead of starting a second.
 */
export async function dispatchEvent(objectId: string, sequence: number): Promise<void> {
  await startDeliveries(await planDeliveries({ objectId, sequence }));
}

/** One delivery child per planned (event, endpoint), for a plan written with its event. */
export async function startDeliveries(planned: PlannedDelivery[]): Promise<void> {
  await Promise.all(
    planned.map(async (p) => {
      try {
        await startChild<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
          workflowId: p.deliveryId,
          taskQueue: TASK_QUEUES.webhooks,
          args: [p],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }),
  );
}
