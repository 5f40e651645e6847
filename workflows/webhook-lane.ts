// The lane of one object (a payment, a payout, an endpoint) to one endpoint that keeps order:
// started only when a first attempt failed or an event had to wait behind one that did. Each
// step is one activity that attempts the earliest pending delivery; between a failure and the
// next attempt it sleeps on a durable timer, so a later event is never sent while an earlier
// one is still being retried. It ends when nothing of its object is pending to its endpoint.
import { ActivityFailure, condition, continueAsNew, patched, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { WebhookDeliveryActivities } from '../activities/webhooks/delivery.js';
import { handOff } from './event-dispatch.js';
import { ATTEMPT_ACTIVITY_TIMEOUT_S, ATTEMPT_HEARTBEAT_TIMEOUT_S, laneWakeSignal, type LaneInput, type LaneResult, type LaneStep } from './webhook-shared.js';

/**
 * A wake (a hand-off, such as a recovery's resends after the endpoint was disabled and its pending
 * deliveries ended) cuts a wait short: the lane reads its head again at once instead of sleeping
 * out a retry delay (up to a day) that belonged to a delivery that no longer exists. A head still
 * waiting its turn sends the lane back to waiting, so nothing is sent early.
 */
export const LANE_WAKE_ENDS_WAIT_PATCH = 'lane-wake-ends-wait';

/** Steps per run: a lane that retries many events for days continues as new before its history grows long. */
export const LANE_STEPS_PER_RUN_MAX = 200;
/** After a step's activity failed (its worker died, the database was away): first pause, doubling to the maximum. */
const STEP_PAUSE_MS_MIN = 1_000;
const STEP_PAUSE_MS_MAX = 60_000;

const { laneStep } = proxyActivities<WebhookDeliveryActivities>({
  startToCloseTimeout: `${ATTEMPT_ACTIVITY_TIMEOUT_S} seconds`,
  heartbeatTimeout: `${ATTEMPT_HEARTBEAT_TIMEOUT_S} seconds`,
  // The lane is the only retry: a hidden activity retry would send out of schedule.
  retry: { maximumAttempts: 1 },
});

export async function webhookLaneWorkflow(input: LaneInput): Promise<LaneResult> {
  let attempts = 0;
  let pauseMs = STEP_PAUSE_MS_MIN;
  // Set by a hand-off that found this lane running; an "idle" read from before it is stale.
  // Signals are applied before the step's result in the same activation, and Temporal refuses
  // to complete a workflow while a signal is unhandled, so none arrives unseen at the end.
  let woken = false;
  setHandler(laneWakeSignal, () => {
    woken = true;
  });
  async function waitOrWake(ms: number): Promise<void> {
    if (patched(LANE_WAKE_ENDS_WAIT_PATCH)) await condition(() => woken, ms);
    else await sleep(ms);
  }
  for (let step = 0; step < LANE_STEPS_PER_RUN_MAX; step++) {
    let s: LaneStep;
    woken = false;
    try {
      // Math.random and Date.now are Temporal's replay-safe versions inside a workflow.
      s = await laneStep({ ...input, jitterRand: Math.random(), nowMs: Date.now() });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // Nothing was logged for that attempt, so the next step makes it again (same attempt number).
      await sleep(pauseMs);
      pauseMs = Math.min(pauseMs * 2, STEP_PAUSE_MS_MAX);
      continue;
    }
    pauseMs = STEP_PAUSE_MS_MIN;
    if (s.kind === 'idle') {
      if (woken) continue;
      return { ...input, attempts };
    }
    if (s.kind === 'wait') {
      await waitOrWake(s.waitMs);
      continue;
    }
    attempts++;
    if (s.notify.length > 0) await handOff(s.notify);
    if (s.outcome === 'failed' && s.nextDelayMs !== null) await waitOrWake(s.nextDelayMs);
  }
  return continueAsNew<typeof webhookLaneWorkflow>(input);
}
