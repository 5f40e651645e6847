// A webhook delivery's bookkeeping: each attempt logged with what was sent and what came back,
// the delivery's state after it, and the lanes that keep one object's events in order. Every
// statement is TypedSQL (prisma/sql/webhook*.sql), run by typedRows on the pool or on the
// delivery's own pg transaction and prepared once per connection: these run for every attempt
// of every event (docs/benchmarks.md, webhooks), and the attempt's transaction also appends to
// the evidence chain under its lock. Due times are by the database's clock, which set them.
import type { AnyTx, Pool } from '../db.js';
import { typedRows } from '../db.js';
import { webhookAttemptContext } from './sql/webhookAttemptContext.js';
import { webhookAttemptInsert } from './sql/webhookAttemptInsert.js';
import { webhookAttemptPrior } from './sql/webhookAttemptPrior.js';
import { webhookDeliveryCancel } from './sql/webhookDeliveryCancel.js';
import { webhookDeliveryExhausted } from './sql/webhookDeliveryExhausted.js';
import { webhookDeliveryRecordAttempt } from './sql/webhookDeliveryRecordAttempt.js';
import { webhookDeliveryState } from './sql/webhookDeliveryState.js';
import { webhookEarlierPending } from './sql/webhookEarlierPending.js';
import { webhookLaneCancel } from './sql/webhookLaneCancel.js';
import { webhookLaneHead } from './sql/webhookLaneHead.js';

export type AttemptContext = webhookAttemptContext.Result;
export type DeliveryState = webhookDeliveryState.Result;
export type LaneHead = webhookLaneHead.Result;

export async function priorAttempt(pool: Pool, deliveryId: string, attempt: number): Promise<webhookAttemptPrior.Result | undefined> {
  return (await typedRows(pool, webhookAttemptPrior(deliveryId, attempt), 'webhook_attempt_prior'))[0];
}

export async function deliveryState(pool: Pool, deliveryId: string): Promise<DeliveryState | undefined> {
  return (await typedRows(pool, webhookDeliveryState(deliveryId), 'webhook_delivery_state'))[0];
}

export async function attemptContext(pool: Pool, eventId: string, endpointId: string): Promise<AttemptContext | undefined> {
  return (await typedRows(pool, webhookAttemptContext(eventId, endpointId), 'webhook_attempt_context'))[0];
}

export async function cancelDelivery(pool: Pool, deliveryId: string, reason: string): Promise<void> {
  await typedRows(pool, webhookDeliveryCancel(deliveryId, reason), 'webhook_delivery_cancel');
}

/**
 * Logs the attempt and moves the pending delivery on, in the caller's transaction; false when
 * this attempt was logged already (a retried activity), and then nothing is written.
 */
export async function recordAttempt(
  c: AnyTx,
  a: { deliveryId: string; attempt: number; url: string; requestHeaders: Record<string, string>; requestBody: string; responseStatus: number | null; responseBodyExcerpt: string | null; latencyMs: number; error: string | null; outcome: string; nextMs: number | null },
): Promise<boolean> {
  const logged = await typedRows(
    c,
    webhookAttemptInsert(a.deliveryId, a.attempt, a.url, JSON.stringify(a.requestHeaders), a.requestBody, a.responseStatus, a.responseBodyExcerpt, a.latencyMs, a.error, a.outcome),
    'webhook_attempt_insert',
  );
  if (logged.length === 0) return false;
  await typedRows(c, webhookDeliveryRecordAttempt(a.deliveryId, a.attempt, a.responseStatus, a.error, a.outcome, a.nextMs), 'webhook_delivery_record_attempt');
  return true;
}

export async function markExhausted(c: AnyTx, deliveryId: string): Promise<void> {
  await typedRows(c, webhookDeliveryExhausted(deliveryId), 'webhook_delivery_exhausted');
}

export async function earlierEventPending(pool: Pool, objectId: string, sequence: number, endpointId: string): Promise<boolean> {
  const [row] = await typedRows(pool, webhookEarlierPending(objectId, sequence, endpointId), 'webhook_earlier_pending');
  return row?.waiting === true;
}

export async function cancelLane(pool: Pool, objectId: string, endpointId: string, reason: string): Promise<number> {
  const [row] = await typedRows(pool, webhookLaneCancel(objectId, endpointId, reason), 'webhook_lane_cancel');
  return row?.ended ?? 0;
}

export async function laneHead(pool: Pool, objectId: string, endpointId: string): Promise<LaneHead | undefined> {
  return (await typedRows(pool, webhookLaneHead(objectId, endpointId), 'webhook_lane_head'))[0];
}
