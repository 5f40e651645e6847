// Which endpoints an event goes to: the delivery rows written in the transaction that records
// the event, so the plan commits with it. Shared by payments, payouts and endpoint events.
import type { AnyTx, Pool } from '../db.js';
import { insertDeliveryRows, subscribedEndpoints } from '../repositories/webhook-endpoints.js';
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
export async function insertDeliveries(c: Pool | AnyTx, rows: Array<DeliveryInput & { kind: DeliveryKind }>): Promise<void> {
  await insertDeliveryRows(c, rows);
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
export async function planEventDeliveries(c: AnyTx, e: EventHead): Promise<PlannedDelivery[]> {
  const rows = await subscribedEndpoints(c, e.merchant_id, e.environment, subscriptionKeys(e.type), ENDPOINTS_PER_MERCHANT_MAX);
  const planned: PlannedDelivery[] = rows.map((w) => ({
    deliveryId: deliveryIdFor(e.id, w.id), eventId: e.id, endpointId: w.id, objectId: e.object_id, sequence: Number(e.sequence), ordering: w.ordering,
  }));
  await insertDeliveries(c, planned.map((p) => ({ deliveryId: p.deliveryId, eventId: p.eventId, endpointId: p.endpointId, kind: 'automatic' as const })));
  return planned;
}
