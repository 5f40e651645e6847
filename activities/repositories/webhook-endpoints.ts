// Webhook endpoints and their deliveries as the API lists them: plain reads through Prisma
// Client, keyset-paged newest first. The changes (create, update, disable, rotate, delete) stay
// in activities/webhooks/endpoints.ts: each shares one transaction with its evidence entry, and
// disabling with its event and the deliveries it plans.
import type { WebhookEndpoint } from '../../generated/prisma/client.js';
import type { EndpointOrdering } from '../../workflows/webhook-shared.js';
import type { Pool } from '../db.js';
import { prismaOf } from '../db.js';
import type { Environment } from '../merchant.js';
import { after, NEWEST_FIRST, type PageCursor } from './paging.js';

export interface EndpointRow {
  id: string;
  merchant_id: string;
  environment: Environment;
  url: string;
  description: string | null;
  enabled_events: string[];
  status: 'enabled' | 'disabled' | 'deleted';
  disabled_reason: string | null;
  disabled_at: Date | null;
  ordering: EndpointOrdering;
  deleted_at: Date | null;
  last_seq: number;
  created_at: Date;
  updated_at: Date;
}

/** The columns of EndpointRow, for the statements that return one inside a change's transaction. */
export const ENDPOINT_COLUMNS = 'id, merchant_id, environment, url, description, enabled_events, status, disabled_reason, disabled_at, ordering, deleted_at, last_seq, created_at, updated_at';

function endpointRowOf(e: WebhookEndpoint): EndpointRow {
  return {
    id: e.id, merchant_id: e.merchantId, environment: e.environment as Environment, url: e.url, description: e.description, enabled_events: e.enabledEvents,
    status: e.status as EndpointRow['status'], disabled_reason: e.disabledReason, disabled_at: e.disabledAt, ordering: e.ordering as EndpointOrdering,
    deleted_at: e.deletedAt, last_seq: e.lastSeq, created_at: e.createdAt, updated_at: e.updatedAt,
  };
}

export type Owner = { merchantId: string; environment: Environment };

/** The owner's endpoint (deleted ones too: their history stays readable); another owner's is none. */
export async function findOwnedEndpoint(pool: Pool, owner: Owner, id: string): Promise<EndpointRow | undefined> {
  if (!/^we_[0-9A-Za-z]{24}$/.test(id)) return undefined;
  const e = await prismaOf(pool).webhookEndpoint.findFirst({ where: { id, merchantId: owner.merchantId, environment: owner.environment } });
  return e ? endpointRowOf(e) : undefined;
}

/** The owner's endpoints that are not deleted, newest first after the cursor. */
export async function endpointsPage(pool: Pool, owner: Owner, cursor: PageCursor | null, limit: number): Promise<EndpointRow[]> {
  const rows = await prismaOf(pool).webhookEndpoint.findMany({
    where: { merchantId: owner.merchantId, environment: owner.environment, status: { not: 'deleted' }, ...after(cursor) },
    orderBy: NEWEST_FIRST,
    take: limit,
  });
  return rows.map(endpointRowOf);
}

/** Where a page of an endpoint's deliveries starts: one of its deliveries, or null. */
export function deliveryCursor(pool: Pool, endpointId: string, id: string): Promise<PageCursor | null> {
  return prismaOf(pool).webhookDelivery.findFirst({ where: { id, endpointId }, select: { createdAt: true, id: true } });
}

/**
 * An endpoint's deliveries newest first after the cursor, each with its latest attempts (at most
 * `attemptsMax`, oldest of them first) and its event's type: three queries per page.
 */
export async function deliveriesPage(pool: Pool, endpointId: string, cursor: PageCursor | null, limit: number, attemptsMax: number) {
  const prisma = prismaOf(pool);
  const deliveries = await prisma.webhookDelivery.findMany({
    where: { endpointId, ...after(cursor) },
    orderBy: NEWEST_FIRST,
    take: limit,
    include: { attempts: { where: { attempt: { gt: 0 } }, orderBy: { attempt: 'desc' }, take: attemptsMax } },
  });
  const events = deliveries.length
    ? await prisma.event.findMany({ where: { id: { in: [...new Set(deliveries.map((d) => d.eventId))] } }, select: { id: true, type: true } })
    : [];
  const typeOf = new Map(events.map((e) => [e.id, e.type]));
  return deliveries.map((d) => ({ ...d, eventType: typeOf.get(d.eventId) ?? null, attempts: d.attempts.reverse() }));
}

/** The operators' view: every merchant's endpoints (in a status, if given), most recently changed first. */
export async function endpointsForOperators(pool: Pool, status: string | undefined, limit: number): Promise<EndpointRow[]> {
  const rows = await prismaOf(pool).webhookEndpoint.findMany({ where: { status }, orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }], take: limit });
  return rows.map(endpointRowOf);
}

/** The endpoints an event is sent to again: the one named, or every one subscribed to one of `keys`. */
export function redeliveryTargets(pool: Pool, owner: Owner, endpointId: string | undefined, keys: string[]): Promise<Array<{ id: string; status: string }>> {
  return prismaOf(pool).webhookEndpoint.findMany({
    where: { merchantId: owner.merchantId, environment: owner.environment, ...(endpointId ? { id: endpointId } : { enabledEvents: { hasSome: keys } }) },
    select: { id: true, status: true },
  });
}
