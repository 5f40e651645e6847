// Names and payload shapes of webhook delivery, shared by the payment workflow (which starts
// deliveries as children), the delivery workflow, its activities, the API and the tests.

export type DeliveryKind = 'automatic' | 'redelivery' | 'recovery';

export interface DeliveryInput {
  /** Also the delivery workflow's id. */
  deliveryId: string;
  eventId: string;
  endpointId: string;
}

/** One delivery per event and endpoint: the id is derived, so a retried start never starts two. */
export function deliveryIdFor(eventId: string, endpointId: string, redeliveryId?: string): string {
  return redeliveryId ? `whd_${eventId}_${endpointId}_${redeliveryId}` : `whd_${eventId}_${endpointId}`;
}

export type AttemptOutcome =
  /** 2xx */
  | 'delivered'
  /** anything else, or no answer: try again on the schedule */
  | 'failed'
  /** 410 Gone: the receiver asked us to stop; the endpoint is disabled */
  | 'gone'
  /** the endpoint was disabled (or removed) before this attempt: nothing was sent */
  | 'endpoint_disabled';

export interface AttemptRequest extends DeliveryInput {
  attempt: number;
  /** The workflow's deterministic random for this attempt's jitter, so the activity records the same next_attempt_at the workflow sleeps to. */
  jitterRand: number;
}

export interface AttemptResult {
  outcome: AttemptOutcome;
  responseStatus: number | null;
  /** Retry-After from a 429 or 503, in ms. */
  retryAfterMs: number | null;
  error: string | null;
}

export interface DeliveryAttemptSummary {
  attempt: number;
  /** Workflow time the attempt started. */
  atMs: number;
  outcome: AttemptOutcome | 'activity_failed';
  responseStatus: number | null;
}

export interface DeliveryResult {
  deliveryId: string;
  status: 'succeeded' | 'failed' | 'canceled';
  /** Why it stopped: delivered, gone, endpoint_disabled or retries_exhausted. */
  reason: string;
  attempts: DeliveryAttemptSummary[];
}

export type PlannedDelivery = DeliveryInput;
