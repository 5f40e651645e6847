// Webhook endpoints, their secrets and deliveries. The API's lists are plain reads through Prisma
// Client, keyset-paged newest first; registration, changes and deletion write through Prisma
// Client in the caller's Prisma transaction (activities/webhooks/endpoints.ts appends the
// evidence in it). What a delivery activity's pg transaction shares with them (disabling an
// endpoint with its event, planning and inserting deliveries) is TypedSQL, run on either kind of
// transaction by typedRows. Secrets' ends are set and compared by the database's clock.
import type { Prisma, WebhookEndpoint } from '../../generated/prisma/client.js';
import type { EndpointOrdering } from '../../workflows/webhook-shared.js';
import type { AnyTx, Pool } from '../db.js';
import { prismaOf, typedRows } from '../db.js';
import { advisoryXactLock } from './sql/advisoryXactLock.js';
import { webhookDeliveriesCancelPending } from './sql/webhookDeliveriesCancelPending.js';
import { webhookDeliveriesInsert } from './sql/webhookDeliveriesInsert.js';
import { webhookRecoveryInsert } from './sql/webhookRecoveryInsert.js';
import { webhookEndpointById } from './sql/webhookEndpointById.js';
import { webhookEndpointDisable } from './sql/webhookEndpointDisable.js';
import { webhookEndpointDisabledEvent } from './sql/webhookEndpointDisabledEvent.js';
import { webhookEndpointEnable } from './sql/webhookEndpointEnable.js';
import { webhookEndpointLock } from './sql/webhookEndpointLock.js';
import { webhookEndpointsEnabledCount } from './sql/webhookEndpointsEnabledCount.js';
import { webhookEndpointsSubscribed } from './sql/webhookEndpointsSubscribed.js';
import { webhookSecretInsert } from './sql/webhookSecretInsert.js';
import { webhookSecretsActive } from './sql/webhookSecretsActive.js';
import { webhookSecretsCap } from './sql/webhookSecretsCap.js';
import { webhookSecretsRotate } from './sql/webhookSecretsRotate.js';
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

type Tx = Prisma.TransactionClient;

const endpointRowOfSql = (r: webhookEndpointById.Result): EndpointRow => ({
  ...r,
  environment: r.environment as Environment,
  enabled_events: r.enabled_events ?? [],
  status: r.status as EndpointRow['status'],
  ordering: r.ordering as EndpointOrdering,
});

/** One endpoint by id (deleted ones too), on either kind of transaction or the pool. */
export async function endpointById(c: AnyTx | Pool, id: string): Promise<EndpointRow | undefined> {
  const [row] = await typedRows(c, webhookEndpointById(id));
  return row ? endpointRowOfSql(row) : undefined;
}

/**
 * The merchant's enabled endpoints in the environment, counted under the per-merchant advisory
 * lock (held to the transaction's end), so concurrent creations and re-enablings cannot pass the
 * cap together.
 */
export async function enabledEndpointsLocked(c: AnyTx, merchantId: string, environment: Environment): Promise<number> {
  await typedRows(c, advisoryXactLock(`we:${merchantId}:${environment}`));
  const [row] = await typedRows(c, webhookEndpointsEnabledCount(merchantId, environment));
  return row?.n ?? 0;
}

export async function insertEndpoint(tx: Tx, e: { id: string; merchantId: string; environment: Environment; url: string; description: string | null; enabledEvents: string[]; ordering: EndpointOrdering; secretId: string; secretCiphertext: string }): Promise<EndpointRow> {
  const { secretId, secretCiphertext, ...endpoint } = e;
  const row = await tx.webhookEndpoint.create({ data: endpoint });
  await tx.webhookSecret.create({ data: { id: secretId, endpointId: e.id, secretCiphertext } });
  return endpointRowOf(row);
}

/** URL, events, description and ordering as given (undefined keeps a field as it is). */
export async function updateEndpointFields(tx: Tx, id: string, f: { url?: string; enabledEvents?: string[]; description?: string | null; ordering?: EndpointOrdering }): Promise<EndpointRow> {
  return endpointRowOf(await tx.webhookEndpoint.update({ where: { id }, data: { ...f, updatedAt: new Date() } }));
}

/** Marks the endpoint deleted; undefined when it was already. */
export async function markEndpointDeleted(tx: Tx, id: string): Promise<EndpointRow | undefined> {
  const now = new Date();
  const [row] = await tx.webhookEndpoint.updateManyAndReturn({ where: { id, status: { not: 'deleted' } }, data: { status: 'deleted', deletedAt: now, updatedAt: now } });
  return row ? endpointRowOf(row) : undefined;
}

/** Disables an enabled endpoint, numbering its next event; undefined when it was not enabled. */
export async function disableEndpointRow(c: AnyTx, id: string, reason: string): Promise<EndpointRow | undefined> {
  const [row] = await typedRows(c, webhookEndpointDisable(id, reason));
  return row ? endpointRowOfSql(row) : undefined;
}

/** Enables a disabled endpoint; undefined when it was not disabled. */
export async function enableEndpointRow(c: AnyTx, id: string): Promise<{ merchant_id: string; last_seq: number } | undefined> {
  const [row] = await typedRows(c, webhookEndpointEnable(id));
  return row;
}

export async function insertDisabledEvent(c: AnyTx, eventId: string, endpointId: string, data: unknown): Promise<void> {
  await typedRows(c, webhookEndpointDisabledEvent(eventId, endpointId, JSON.stringify(data)));
}

/** Ends every pending delivery of an endpoint; answers how many ended. */
export async function cancelPendingDeliveries(c: AnyTx, endpointId: string, reason: string): Promise<number> {
  const [row] = await typedRows(c, webhookDeliveriesCancelPending(endpointId, reason));
  return row?.ended ?? 0;
}

/** Enabled endpoints subscribed by any of `keys`, oldest first: prepared once per connection (every event plans). */
export async function subscribedEndpoints(c: AnyTx, merchantId: string, environment: string, keys: string[], limit: number): Promise<Array<{ id: string; ordering: EndpointOrdering }>> {
  return (await typedRows(c, webhookEndpointsSubscribed(merchantId, environment, keys, limit), 'webhook_endpoints_subscribed')) as Array<{ id: string; ordering: EndpointOrdering }>;
}

/**
 * A recovery's rows for the events not already on their way to (or delivered to) the endpoint,
 * under the endpoint's recovery lock in the caller's transaction: the ids of this recovery's rows.
 */
export async function insertRecoveryRows(tx: AnyTx, endpointId: string, rows: Array<{ deliveryId: string; eventId: string }>): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  await typedRows(tx, advisoryXactLock(`webhook_recovery:${endpointId}`));
  const written = await typedRows(tx, webhookRecoveryInsert(rows.map((r) => r.deliveryId), rows.map((r) => r.eventId), endpointId), 'webhook_recovery_insert');
  return new Set(written.map((r) => r.id!));
}

export async function insertDeliveryRows(c: AnyTx | Pool, rows: Array<{ deliveryId: string; endpointId: string; eventId: string; kind: string }>): Promise<void> {
  if (rows.length === 0) return;
  await typedRows(c, webhookDeliveriesInsert(rows.map((r) => r.deliveryId), rows.map((r) => r.endpointId), rows.map((r) => r.eventId), rows.map((r) => r.kind)), 'webhook_deliveries_insert');
}

/**
 * Rotation's writes, under the endpoint's row lock: the secrets that sign now end after the
 * overlap, a new one is added, and beyond `keep` the oldest end now. Answers when the previous
 * secrets stop signing (null when there were none).
 */
export async function rotateSecrets(tx: Tx, endpointId: string, s: { overlapS: number; secretId: string; ciphertext: string; keep: number }): Promise<Date | null> {
  await tx.$queryRawTyped(webhookEndpointLock(endpointId));
  const [ending] = await tx.$queryRawTyped(webhookSecretsRotate(endpointId, s.overlapS));
  await tx.$queryRawTyped(webhookSecretInsert(s.secretId, endpointId, s.ciphertext));
  await tx.$queryRawTyped(webhookSecretsCap(endpointId, s.keep));
  return ending?.previous_expires_at ?? null;
}

/** The sealed secrets that sign now, newest first. */
export async function activeSecretCiphertexts(pool: Pool, endpointId: string, limit: number): Promise<string[]> {
  const rows = await prismaOf(pool).$queryRawTyped(webhookSecretsActive(endpointId, limit));
  return rows.map((r) => r.secret_ciphertext);
}
