// Names and payload shapes of webhook delivery, shared by the payment workflow (which starts
// deliveries as children), the delivery workflow, its activities, the API and the tests.

import { defineSignal } from '@temporalio/workflow';

export type DeliveryKind = 'automatic' | 'redelivery' | 'recovery';

/**
 * "Read the pending deliveries again before you end": sent to a running lane by whoever found
 * it running while handing it a delivery. Without it, a lane that had just read "nothing
 * pending" a moment before that delivery was written would end and leave it unsent.
 */
export const laneWakeSignal = defineSignal('laneWake');

/** Workflow type names, for starts from modules the workflows themselves import. */
export const WORKFLOW_TYPES = { delivery: 'webhookDeliveryWorkflow', lane: 'webhookLaneWorkflow' } as const;

/** The attempt's HTTP deadline is 15 s; the rest is the attempt log's database write. */
export const ATTEMPT_ACTIVITY_TIMEOUT_S = 25;
/**
 * An attempt heartbeats every second while its request is in flight: a worker that dies
 * mid-attempt is noticed after this, and the schedule moves on, instead of at the 25 s timeout.
 */
export const ATTEMPT_HEARTBEAT_TIMEOUT_S = 5;

export interface DeliveryInput {
  /** Also the delivery workflow's id. */
  deliveryId: string;
  eventId: string;
  endpointId: string;
  /**
   * The attempt to make first (default 1): 2 when the activity that recorded the event already
   * made attempt 1, after waiting initialDelayMs (the schedule's delay it recorded).
   */
  firstAttempt?: number;
  initialDelayMs?: number;
  /**
   * Set when the starter wrote no row (the API's redeliveries and recoveries): the workflow
   * writes its own pending row before the first attempt, so no row exists without its workflow.
   */
  kind?: DeliveryKind;
}

/** 'sequence': one object's events reach an endpoint in sequence order; 'none': each independently. */
export type EndpointOrdering = 'sequence' | 'none';

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

/**
 * What the first attempt, made by the activity that recorded the event, came to. `queued`: not
 * sent, because an earlier event of the same object is still pending to this endpoint.
 * `not_attempted`: that activity had no way to send (no signing key on its worker).
 */
export type FirstAttemptOutcome = AttemptOutcome | 'queued' | 'not_attempted';

export interface FirstAttempt {
  outcome: FirstAttemptOutcome;
  /** After a failed first attempt: the recorded delay before attempt 2. */
  nextDelayMs: number | null;
}

/** A delivery planned with its event. Fields after endpointId are absent from plans recorded before ordering existed. */
export interface PlannedDelivery extends DeliveryInput {
  objectId?: string;
  sequence?: number;
  ordering?: EndpointOrdering;
  first?: FirstAttempt;
}

/** The lane of one object to one endpoint: at most one running, which delivers that object's pending events in sequence. */
export function laneIdFor(objectId: string, endpointId: string): string {
  return `whl_${objectId}_${endpointId}`;
}

export interface LaneInput {
  objectId: string;
  endpointId: string;
}

export interface LaneStepRequest extends LaneInput {
  jitterRand: number;
  /**
   * The workflow's clock: the head delivery is due when its recorded next_attempt_at is not
   * after it (a first attempt made before the lane started waits out its delay; under the
   * time-skipping test server the workflow's clock runs ahead and nothing waits twice).
   */
  nowMs: number;
}

export interface LaneResult {
  objectId: string;
  endpointId: string;
  /** Attempts this run made. */
  attempts: number;
}

export type LaneStep =
  /** nothing pending for this object and endpoint (or the endpoint is no longer enabled): the lane ends */
  | { kind: 'idle' }
  /** the head delivery is not due yet */
  | { kind: 'wait'; waitMs: number }
  /** one attempt of the head delivery; on failure nextDelayMs is the wait before its next attempt (null: none left, concluded) */
  | { kind: 'attempted'; deliveryId: string; attempt: number; outcome: AttemptOutcome; nextDelayMs: number | null; notify: PlannedDelivery[] };
