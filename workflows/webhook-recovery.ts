// One recovery of an endpoint (`POST /v1/webhook_endpoints/{id}/recover`), workflow id = the
// recovery's id (`rcv_…`). It writes the recovery's pending delivery rows, then hands them to
// delivery the way a payment hands off its events: to the lane of each object for an endpoint
// that keeps order, so the resent events arrive in sequence order behind anything still
// pending, or to a delivery child each for an endpoint with ordering "none". The API makes this
// one call (start and wait for this result, seconds) and writes no delivery row itself.
import { proxyActivities } from '@temporalio/workflow';
import type { WebhookDeliveryActivities } from '../activities/webhooks/delivery.js';
import { handOff } from './event-dispatch.js';
import type { PlannedDelivery } from './webhook-shared.js';

export interface RecoveryInput {
  recoveryId: string;
  endpointId: string;
  /** Oldest first; each with its object and sequence, and the endpoint's ordering. */
  deliveries: PlannedDelivery[];
}

export interface RecoveryResult {
  recoveryId: string;
  endpointId: string;
  /** The events resent, oldest first: those not already on their way to the endpoint (another recovery at the same moment took the rest). */
  eventIds: string[];
}

/** Hand-offs per round: each lane start or delivery child is a command of one workflow task. */
export const RECOVERY_HAND_OFF_BATCH = 100;

const { recordRecovery } = proxyActivities<WebhookDeliveryActivities>({
  startToCloseTimeout: '30 seconds',
  // Database work only, idempotent by delivery id: retried until the database answers.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function webhookRecoveryWorkflow(input: RecoveryInput): Promise<RecoveryResult> {
  const mine = await recordRecovery(input.deliveries);
  for (let i = 0; i < mine.length; i += RECOVERY_HAND_OFF_BATCH) {
    await handOff(mine.slice(i, i + RECOVERY_HAND_OFF_BATCH));
  }
  return { recoveryId: input.recoveryId, endpointId: input.endpointId, eventIds: mine.map((d) => d.eventId) };
}
