// Handing an event to webhook delivery, from inside a workflow (payments, payouts, lanes). The
// activity that records an event plans its deliveries and makes each first attempt; only what
// that did not deliver costs a child workflow: the lane of (object, endpoint) for an endpoint
// that keeps order, or a delivery child of its own for one with ordering "none".
import { getExternalWorkflowHandle, ParentClosePolicy, patched, proxyActivities, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { WebhookDispatchActivities } from '../activities/webhooks/delivery.js';
import { laneIdFor, laneWakeSignal, WORKFLOW_TYPES, type DeliveryInput, type LaneInput, type PlannedDelivery } from './webhook-shared.js';
import { TASK_QUEUES } from './shared.js';

const dispatch = proxyActivities<WebhookDispatchActivities>({
  startToCloseTimeout: '30 seconds',
  // No maximumAttempts: an event must reach its endpoints, and planning and first attempts are idempotent.
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Deliveries after the first attempt are lanes and children; histories recorded before replay their per-delivery children. */
export const WEBHOOK_LANES_PATCH = 'webhook-lanes';
/** A running lane is woken (signalled) when handed a delivery, so it cannot end without it. */
export const LANE_WAKE_PATCH = 'lane-wake-on-hand-off';
/** Start-or-wake rounds before giving up on a lane that keeps ending between the two. */
const LANE_HAND_OFF_TRIES = 3;

/**
 * ABANDON: an object whose workflow ends never cancels a pending delivery. The child id is
 * derived from event and endpoint, so a replayed or retried dispatch finds the child already
 * started instead of starting a second.
 */
export async function dispatchEvent(objectId: string, sequence: number): Promise<void> {
  const planned = await dispatch.planDeliveries({ objectId, sequence });
  if (patched(WEBHOOK_LANES_PATCH)) await handOff(planned);
  else await startDeliveries(planned);
}

/** First attempts of a plan written with its event by a step that could not send (a create Update's local activity), then the hand-off. */
export async function sendThenHandOff(planned: PlannedDelivery[]): Promise<void> {
  await handOff(planned.length === 0 ? planned : await dispatch.sendFirstAttempts(planned));
}

/** One delivery child per planned (event, endpoint), each from attempt 1: the shape before lanes. */
export async function startDeliveries(planned: PlannedDelivery[]): Promise<void> {
  await Promise.all(planned.map((p) => startDeliveryChild({ deliveryId: p.deliveryId, eventId: p.eventId, endpointId: p.endpointId })));
}

async function startDeliveryChild(input: DeliveryInput): Promise<void> {
  try {
    // Started by name: the delivery and lane workflows import this module, not the other way round.
    await startChild(WORKFLOW_TYPES.delivery, {
      workflowId: input.deliveryId,
      taskQueue: TASK_QUEUES.webhooks,
      args: [input] satisfies [DeliveryInput],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * Start the lane of this object and endpoint, or wake the running one: a running lane reads the
 * pending deliveries after each one it finishes, but it may have read "nothing pending" just
 * before this delivery was written and be about to end; the wake signal makes it read again.
 * If it ended between the start and the signal, it is started again.
 */
async function ensureLane(objectId: string, endpointId: string): Promise<void> {
  const workflowId = laneIdFor(objectId, endpointId);
  for (let round = 1; ; round++) {
    try {
      await startChild(WORKFLOW_TYPES.lane, {
        workflowId,
        taskQueue: TASK_QUEUES.webhooks,
        args: [{ objectId, endpointId }] satisfies [LaneInput],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // A lane ends when its object has nothing pending; a later failure opens it again.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
      return;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    if (!patched(LANE_WAKE_PATCH)) return;
    try {
      await getExternalWorkflowHandle(workflowId).signal(laneWakeSignal);
      return;
    } catch (err) {
      // Ended in between: the next round starts it again (its first read sees the delivery).
      if (round >= LANE_HAND_OFF_TRIES) throw err;
    }
  }
}

/** What the first attempts did not settle goes on: to the lane (order kept) or to a delivery child (ordering "none"). */
export async function handOff(planned: PlannedDelivery[]): Promise<void> {
  const lanes = new Map<string, { objectId: string; endpointId: string }>();
  const children: DeliveryInput[] = [];
  for (const p of planned) {
    const outcome = p.first?.outcome;
    if (outcome === 'delivered' || outcome === 'gone' || outcome === 'endpoint_disabled') continue;
    if (p.ordering !== 'none' && p.objectId !== undefined) {
      lanes.set(`${p.objectId} ${p.endpointId}`, { objectId: p.objectId, endpointId: p.endpointId });
    } else {
      const failed = outcome === 'failed';
      children.push({ deliveryId: p.deliveryId, eventId: p.eventId, endpointId: p.endpointId, firstAttempt: failed ? 2 : 1, initialDelayMs: failed ? (p.first?.nextDelayMs ?? 0) : 0 });
    }
  }
  await Promise.all([...[...lanes.values()].map((l) => ensureLane(l.objectId, l.endpointId)), ...children.map(startDeliveryChild)]);
}
