// One webhook delivery: one event to one endpoint, as a child of its own. Started for an
// endpoint with ordering "none" whose first attempt (made by the activity that recorded the
// event) failed, and by the API for a redelivery or a recovery. It owns the retry schedule:
// each attempt is one activity with no retries of its own, and between attempts it sleeps on
// durable timers, so a worker restart neither loses nor repeats a wait.
import { ActivityFailure, patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { WebhookDeliveryActivities } from '../activities/webhooks/delivery.js';
import { ATTEMPTS_MAX, nextDelayMs } from './rules/retry-schedule.js';
import { handOff } from './event-dispatch.js';
import { ATTEMPT_ACTIVITY_TIMEOUT_S, ATTEMPT_HEARTBEAT_TIMEOUT_S, type DeliveryAttemptSummary, type DeliveryInput, type DeliveryResult } from './webhook-shared.js';

export { ATTEMPT_ACTIVITY_TIMEOUT_S, ATTEMPT_HEARTBEAT_TIMEOUT_S };


const { attemptDelivery } = proxyActivities<WebhookDeliveryActivities>({
  startToCloseTimeout: `${ATTEMPT_ACTIVITY_TIMEOUT_S} seconds`,
  heartbeatTimeout: `${ATTEMPT_HEARTBEAT_TIMEOUT_S} seconds`,
  // The schedule below is the only retry: a hidden activity retry would send out of schedule.
  retry: { maximumAttempts: 1 },
});

const { concludeDelivery, recordDelivery } = proxyActivities<WebhookDeliveryActivities>({
  startToCloseTimeout: '30 seconds',
  // Pure database work and idempotent: retried until the database answers.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Redeliveries and recoveries since #13 write their row here, not in the API before the start. */
export const DELIVERY_ROW_BY_WORKFLOW_PATCH = 'delivery-row-by-workflow';

export async function webhookDeliveryWorkflow(input: DeliveryInput): Promise<DeliveryResult> {
  const attempts: DeliveryAttemptSummary[] = [];
  const target = { deliveryId: input.deliveryId, eventId: input.eventId, endpointId: input.endpointId };
  if (input.kind && patched(DELIVERY_ROW_BY_WORKFLOW_PATCH)) {
    await recordDelivery({ ...target, kind: input.kind });
  }
  const firstAttempt = input.firstAttempt ?? 1;
  // Attempt 1 was made by the recording activity: wait out the delay it recorded.
  if (input.initialDelayMs) await sleep(input.initialDelayMs);
  for (let attempt = firstAttempt; attempt <= ATTEMPTS_MAX; attempt++) {
    // Math.random is Temporal's seeded, replay-safe random inside a workflow.
    const jitterRand = Math.random();
    const atMs = Date.now();
    let retryAfterMs: number | null = null;
    try {
      const r = await attemptDelivery({ ...target, attempt, jitterRand });
      attempts.push({ attempt, atMs, outcome: r.outcome, responseStatus: r.responseStatus });
      if (r.notify?.length) await handOff(r.notify);
      if (r.outcome === 'delivered') return { deliveryId: input.deliveryId, status: 'succeeded', reason: 'delivered', attempts };
      if (r.outcome === 'gone' || r.outcome === 'endpoint_disabled') {
        return { deliveryId: input.deliveryId, status: r.outcome === 'gone' ? 'failed' : 'canceled', reason: r.outcome, attempts };
      }
      retryAfterMs = r.retryAfterMs;
    } catch (err) {
      // The attempt's worker died (noticed at the heartbeat timeout) or the database failed: it
      // counts as a failed attempt (the receiver may have seen it; the next one carries the same webhook-id).
      if (!(err instanceof ActivityFailure)) throw err;
      attempts.push({ attempt, atMs, outcome: 'activity_failed', responseStatus: null });
    }
    const delayMs = nextDelayMs(attempt, jitterRand, retryAfterMs);
    if (delayMs === undefined) break;
    await sleep(delayMs);
  }
  const concluded = await concludeDelivery({ ...target, reason: 'retries_exhausted' });
  if (concluded.notify?.length) await handOff(concluded.notify);
  return { deliveryId: input.deliveryId, status: 'failed', reason: 'retries_exhausted', attempts };
}
