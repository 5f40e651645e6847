// Webhook endpoints: registration, secrets (sealed at rest), rotation with an overlap
// window, disabling (with an operator-visible event), and the reads the API serves.
import type { AnyTx, Pool } from '../db.js';
import { withPrismaTx } from '../db.js';
import type { StablerailConfig } from '../config.js';
import { appendEvidence } from '../evidence.js';
import { newId } from '../ids.js';
import { DomainError, type Environment } from '../merchant.js';
import { generateSecret } from '../../sdk/signature.js';
import { openSecret, sealSecret } from './secret-box.js';
import { parseEndpointUrl, resolveTarget, urlPolicy } from './url-guard.js';

import { ENDPOINTS_PER_MERCHANT_MAX, planEventDeliveries, subscriptionKeys } from './plan.js';
import type { EndpointOrdering, PlannedDelivery } from '../../workflows/webhook-shared.js';
import * as repo from '../repositories/webhook-endpoints.js';
import { deliveriesPage, deliveryCursor, endpointsPage, findOwnedEndpoint, type EndpointRow } from '../repositories/webhook-endpoints.js';

export { ENDPOINTS_PER_MERCHANT_MAX, subscriptionKeys };
export type { EndpointOrdering };
/** Secrets valid at once: the current one and those still in their overlap window. */
export const SECRETS_ACTIVE_MAX = 3;
export const ROTATION_OVERLAP_S_DEFAULT = 86_400;
export const ROTATION_OVERLAP_S_MAX = 7 * 86_400;
export const DELIVERY_ATTEMPTS_LISTED_MAX = 10;

export type { EndpointRow };

export function endpointObject(row: EndpointRow) {
  return {
    id: row.id,
    object: 'webhook_endpoint' as const,
    livemode: row.environment === 'live',
    url: row.url,
    description: row.description,
    enabled_events: row.enabled_events,
    ordering: row.ordering,
    status: row.status,
    disabled_reason: row.disabled_reason,
    disabled_at: row.disabled_at?.toISOString() ?? null,
    deleted_at: row.deleted_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}


export interface NewEndpoint {
  url: string;
  enabled_events?: string[];
  description?: string;
  ordering?: EndpointOrdering;
}

export async function createEndpoint(pool: Pool, masterKey: Buffer, config: StablerailConfig, owner: { merchantId: string; environment: Environment; actor: string }, body: NewEndpoint, id: string | null) {
  const policy = urlPolicy(owner.environment, config);
  const url = parseEndpointUrl(body.url, policy);
  await resolveTarget(url, policy);
  const endpointId = id ?? newId('we');
  // A retried request (an idempotency takeover) finds the endpoint it already wrote; its secret is not shown twice.
  const existing = await getEndpoint(pool, endpointId);
  if (existing) return { row: existing, secret: null as string | null };
  const secret = generateSecret();
  return withPrismaTx(pool, async (tx) => {
    await assertBelowEnabledCap(tx, owner.merchantId, owner.environment, 'url');
    const row = await repo.insertEndpoint(tx, {
      id: endpointId, merchantId: owner.merchantId, environment: owner.environment, url: url.toString(), description: body.description ?? null,
      enabledEvents: body.enabled_events ?? ['*'], ordering: body.ordering ?? 'sequence', secretId: newId('whsk'), secretCiphertext: sealSecret(masterKey, secret, endpointId),
    });
    await appendEvidence(tx, {
      kind: 'webhook_endpoint.created',
      subject: owner.merchantId,
      actor: owner.actor,
      payload: { endpoint_id: endpointId, environment: owner.environment, url: url.toString(), enabled_events: body.enabled_events ?? ['*'], ordering: body.ordering ?? 'sequence' },
      dedupeKey: `webhook_endpoint:${endpointId}:created`,
    });
    return { row, secret: secret as string | null };
  });
}

/**
 * The cap counts enabled endpoints only, under the caller's per-merchant advisory lock so
 * concurrent creations and re-enablings cannot pass it together.
 */
async function assertBelowEnabledCap(c: AnyTx, merchantId: string, environment: Environment, param: string): Promise<void> {
  if ((await repo.enabledEndpointsLocked(c, merchantId, environment)) >= ENDPOINTS_PER_MERCHANT_MAX) {
    throw new DomainError('endpoints_limit_reached', `at most ${ENDPOINTS_PER_MERCHANT_MAX} enabled webhook endpoints per environment`, param);
  }
}

export interface EndpointUpdate {
  url?: string;
  enabled_events?: string[];
  description?: string;
  disabled?: boolean;
  ordering?: EndpointOrdering;
}

/** Change an endpoint: a new URL passes the same guard as at registration; disabling is recorded like any other. */
export async function updateEndpoint(pool: Pool, config: StablerailConfig, endpoint: EndpointRow, body: EndpointUpdate, actor: string): Promise<{ row: EndpointRow; notify: PlannedDelivery[] }> {
  assertNotDeleted(endpoint);
  let url: string | null = null;
  if (body.url !== undefined) {
    const policy = urlPolicy(endpoint.environment, config);
    const parsed = parseEndpointUrl(body.url, policy);
    await resolveTarget(parsed, policy);
    url = parsed.toString();
  }
  return withPrismaTx(pool, async (tx) => {
    const updated = await repo.updateEndpointFields(tx, endpoint.id, { url: url ?? undefined, enabledEvents: body.enabled_events, description: body.description, ordering: body.ordering });
    await appendEvidence(tx, {
      kind: 'webhook_endpoint.updated',
      subject: endpoint.merchant_id,
      actor,
      payload: { endpoint_id: endpoint.id, url, enabled_events: body.enabled_events ?? null, disabled: body.disabled ?? null, ordering: body.ordering ?? null },
      dedupeKey: `webhook_endpoint:${endpoint.id}:updated:${newId('upd')}`,
    });
    const notify = body.disabled === true ? (await disableEndpoint(tx, endpoint.id, 'disabled_by_merchant', actor)).notify : [];
    if (body.disabled === false) await enableEndpoint(tx, endpoint.id, actor);
    return { row: body.disabled === undefined ? updated : ((await repo.endpointById(tx, endpoint.id)) ?? updated), notify };
  });
}

function assertNotDeleted(endpoint: EndpointRow): void {
  if (endpoint.status === 'deleted') throw new DomainError('endpoint_deleted', 'This webhook endpoint was deleted; its history stays readable', 'id', 409);
}

/**
 * DELETE: the endpoint stops for good. Its pending deliveries end (canceled, so their workflows
 * stop at their next attempt without sending) and every row of its history stays: the endpoint
 * (status `deleted`), its deliveries and attempts, its evidence. Idempotent.
 */
export async function deleteEndpoint(pool: Pool, endpoint: EndpointRow, actor: string): Promise<EndpointRow> {
  return withPrismaTx(pool, async (tx) => {
    const row = await repo.markEndpointDeleted(tx, endpoint.id);
    if (!row) return (await repo.endpointById(tx, endpoint.id))!;
    const ended = await repo.cancelPendingDeliveries(tx, endpoint.id, 'endpoint_deleted');
    await appendEvidence(tx, {
      kind: 'webhook_endpoint.deleted',
      subject: endpoint.merchant_id,
      actor,
      payload: { endpoint_id: endpoint.id, pending_deliveries_ended: ended },
      dedupeKey: `webhook_endpoint:${endpoint.id}:deleted`,
    });
    return row;
  });
}

export const getEndpoint = (c: AnyTx | Pool, id: string): Promise<EndpointRow | undefined> => repo.endpointById(c, id);

export async function listEndpoints(pool: Pool, owner: { merchantId: string; environment: Environment }, limit: number, startingAfter?: string) {
  const cursor = startingAfter ? await findOwnedEndpoint(pool, owner, startingAfter) : null;
  if (startingAfter && !cursor) throw new DomainError('cursor_invalid', 'starting_after does not name one of your webhook endpoints', 'starting_after');
  const rows = await endpointsPage(pool, owner, cursor ? { createdAt: cursor.created_at, id: cursor.id } : null, limit + 1);
  return { object: 'list', data: rows.slice(0, limit).map(endpointObject), has_more: rows.length > limit };
}

/**
 * Rotate: a new secret signs from now on; the previous ones keep signing until the overlap
 * ends, so a receiver that deploys the new secret at any point in the window drops nothing.
 */
export async function rotateSecret(pool: Pool, masterKey: Buffer, endpoint: EndpointRow, overlapS: number, actor: string) {
  assertNotDeleted(endpoint);
  if (!Number.isInteger(overlapS) || overlapS < 0 || overlapS > ROTATION_OVERLAP_S_MAX) {
    throw new DomainError('overlap_invalid', `overlap_s must be 0 to ${ROTATION_OVERLAP_S_MAX}`, 'overlap_s');
  }
  const secret = generateSecret();
  return withPrismaTx(pool, async (tx) => {
    const previousExpiresAt = await repo.rotateSecrets(tx, endpoint.id, { overlapS, secretId: newId('whsk'), ciphertext: sealSecret(masterKey, secret, endpoint.id), keep: SECRETS_ACTIVE_MAX });
    await appendEvidence(tx, {
      kind: 'webhook_endpoint.secret_rotated',
      subject: endpoint.merchant_id,
      actor,
      payload: { endpoint_id: endpoint.id, overlap_s: overlapS },
      dedupeKey: `webhook_endpoint:${endpoint.id}:rotated:${newId('rot')}`,
    });
    return { secret, previousExpiresAt };
  });
}

/** Every secret that signs right now, newest first. */
export async function activeSecrets(pool: Pool, masterKey: Buffer, endpointId: string): Promise<string[]> {
  return (await repo.activeSecretCiphertexts(pool, endpointId, SECRETS_ACTIVE_MAX)).map((c) => openSecret(masterKey, c, endpointId));
}

/**
 * Disable an endpoint and record why: an event (`webhook_endpoint.disabled`, visible in
 * GET /v1/events and to operators) and an evidence entry, in the caller's transaction; its
 * pending deliveries end, and the event's deliveries to the merchant's other subscribed
 * endpoints are planned (`notify`: the caller hands them to delivery after commit).
 * A second disable is a no-op, so a retried activity records one event.
 */
export async function disableEndpoint(c: AnyTx, endpointId: string, reason: string, actor: string): Promise<{ disabled: boolean; notify: PlannedDelivery[] }> {
  const row = await repo.disableEndpointRow(c, endpointId, reason);
  if (!row) return { disabled: false, notify: [] };
  await repo.cancelPendingDeliveries(c, row.id, 'endpoint_disabled');
  const eventId = newId('evt');
  await repo.insertDisabledEvent(c, eventId, row.id, endpointObject(row));
  await appendEvidence(c, {
    kind: 'webhook_endpoint.disabled',
    subject: row.merchant_id,
    actor,
    payload: { endpoint_id: row.id, reason, event_id: eventId },
    dedupeKey: `webhook_endpoint:${row.id}:disabled:${row.last_seq}`,
  });
  const notify = await planEventDeliveries(c, { id: eventId, type: 'webhook_endpoint.disabled', merchant_id: row.merchant_id, environment: row.environment, object_id: row.id, sequence: row.last_seq });
  return { disabled: true, notify };
}

/** Enable a disabled endpoint again, within the cap of enabled endpoints (a deleted one stays deleted). */
export async function enableEndpoint(c: AnyTx, endpointId: string, actor: string): Promise<void> {
  const current = await repo.endpointById(c, endpointId);
  if (!current) return;
  assertNotDeleted(current);
  if (current.status === 'enabled') return;
  await assertBelowEnabledCap(c, current.merchant_id, current.environment, 'disabled');
  const row = await repo.enableEndpointRow(c, endpointId);
  if (row) {
    await appendEvidence(c, {
      kind: 'webhook_endpoint.enabled',
      subject: row.merchant_id,
      actor,
      payload: { endpoint_id: endpointId },
      dedupeKey: `webhook_endpoint:${endpointId}:enabled:${row.last_seq}:${Date.now()}`,
    });
  }
}

export async function listDeliveries(pool: Pool, endpoint: EndpointRow, limit: number, startingAfter?: string) {
  const cursor = startingAfter ? await deliveryCursor(pool, endpoint.id, startingAfter) : null;
  if (startingAfter && !cursor) throw new DomainError('cursor_invalid', 'starting_after does not name a delivery of this endpoint', 'starting_after');
  const rows = await deliveriesPage(pool, endpoint.id, cursor, limit + 1, DELIVERY_ATTEMPTS_LISTED_MAX);
  return {
    object: 'list',
    data: rows.slice(0, limit).map((d) => ({
      id: d.id,
      object: 'webhook_delivery',
      endpoint_id: d.endpointId,
      event_id: d.eventId,
      event_type: d.eventType,
      kind: d.kind,
      status: d.status,
      attempt_count: d.attemptCount,
      last_response_status: d.lastResponseStatus,
      last_error: d.lastError,
      next_attempt_at: d.nextAttemptAt?.toISOString() ?? null,
      created_at: d.createdAt.toISOString(),
      updated_at: d.updatedAt.toISOString(),
      // The latest attempts, bounded; each names what was sent and what came back.
      attempts: d.attempts.map((a) => ({
        attempt: a.attempt,
        url: a.url,
        request_headers: a.requestHeaders,
        response_status: a.responseStatus,
        response_body_excerpt: a.responseBodyExcerpt,
        latency_ms: a.latencyMs,
        error: a.error,
        outcome: a.outcome,
        created_at: a.createdAt.toISOString(),
      })),
    })),
    has_more: rows.length > limit,
  };
}
