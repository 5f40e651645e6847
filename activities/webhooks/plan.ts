// Which endpoints an event goes to: the delivery rows written in the transaction that records
// the event, so the plan commits with it. Shared by payments, payouts and endpoint events.
import type { DbClient, Pool } from '../db.js';
import { deliveryIdFor, type DeliveryInput, type DeliveryKind, type EndpointOrdering, type PlannedDelivery } from '../../workflows/webhook-shared.js';

/**
 * Enabled endpoints per merchant and environment: every event fans out to each, so the fan-out
 * is bounded. Disabled and deleted endpoints receive nothing and do not count.
 */
export const ENDPOINTS_PER_MERCHANT_MAX = 16;

/** The event types an endpoint's enabled_events entry matches: `*`, `payment.*` or an exact type. */
export function subscriptionKeys(eventType: string): string[] {
  const dot = eventType.indexOf('.');
  return dot > 0 ? ['*', `${eventType.slice(0, dot)}.*`, eventType] : ['*', eventType];
}

/** Insert delivery rows (pending) for event × endpoint pairs; existing ones are left alone. */
export async function insertDeliveries(c: Pool | DbClient, rows: Array<DeliveryInput & { kind: DeliveryKind }>): Promise<void> {
  if (rows.length === 0) return;
  await c.query(
    `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, merchant_id, environment, kind, next_attempt_at)
     SELECT d.id, d.endpoint_id, d.event_id, w.merchant_id, w.environment, d.kind, now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS d(id, endpoint_id, event_id, kind)
       JOIN webhook_endpoints w ON w.id = d.endpoint_id
     ON CONFLICT (id) DO NOTHING`,
    [rows.map((r) => r.deliveryId), rows.map((r) => r.endpointId), rows.map((r) => r.eventId), rows.map((r) => r.kind)],
  );
}

export interface EventHead {
  id: string;
  type: string;
  merchant_id: string;
  environment: string;
  object_id: string;
  sequence: number;
}

/**
 * The enabled endpoints subscribed to one event, with their pending delivery rows written.
 * Called in the transaction that writes the event, so the plan commits with it and the
 * deliveries start without another activity; idempotent by delivery id.
 */
export async function planEventDeliveries(c: DbClient, e: EventHead): Promise<PlannedDelivery[]> {
  const { rows } = await c.query<{ id: string; ordering: EndpointOrdering }>(
    `SELECT id, ordering FROM webhook_endpoints WHERE merchant_id = $1 AND environment = $2 AND status = 'enabled' AND enabled_events && $3::text[]
      ORDER BY created_at, id LIMIT $4`,
    [e.merchant_id, e.environment, subscriptionKeys(e.type), ENDPOINTS_PER_MERCHANT_MAX],
  );
  const planned: PlannedDelivery[] = rows.map((w) => ({
    deliveryId: deliveryIdFor(e.id, w.id), eventId: e.id, endpointId: w.id, objectId: e.object_id, sequence: Number(e.sequence), ordering: w.ordering,
  }));
  await insertDeliveries(c, planned.map((p) => ({ deliveryId: p.deliveryId, eventId: p.eventId, endpointId: p.endpointId, kind: 'automatic' as const })));
  return planned;
}
