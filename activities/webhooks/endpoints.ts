// Webhook endpoints: registration, secrets (sealed at rest), rotation with an overlap
// window, disabling (with an operator-visible event), and the reads the API serves.
import type { DbClient, Pool } from '../db.js';
import { withTx } from '../db.js';
import type { StablerailConfig } from '../config.js';
import { appendEvidence } from '../evidence.js';
import { newId } from '../ids.js';
import { DomainError, type Environment } from '../merchant.js';
import { generateSecret } from '../../sdk/signature.js';
import { openSecret, sealSecret } from './secret-box.js';
import { parseEndpointUrl, resolveTarget, urlPolicy } from './url-guard.js';

import { ENDPOINTS_PER_MERCHANT_MAX, planEventDeliveries, subscriptionKeys } from './plan.js';
import type { EndpointOrdering, PlannedDelivery } from '../../workflows/webhook-shared.js';
import { deliveriesPage, deliveryCursor, ENDPOINT_COLUMNS, endpointsPage, findOwnedEndpoint, type EndpointRow } from '../repositories/webhook-endpoints.js';

export { ENDPOINTS_PER_MERCHANT_MAX, subscriptionKeys };
export type { EndpointOrdering };
/** Secrets valid at once: the current one and those still in their overlap window. */
export const SECRETS_ACTIVE_MAX = 3;
export const ROTATION_OVERLAP_S_DEFAULT = 86_400;
export const ROTATION_OVERLAP_S_MAX = 7 * 86_400;
export const DELIVERY_ATTEMPTS_LISTED_MAX = 10;

export { ENDPOINT_COLUMNS, type EndpointRow };

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
  return withTx(pool, async (c) => {
    await assertBelowEnabledCap(c, owner.merchantId, owner.environment, 'url');
    const { rows } = await c.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (id, merchant_id, environment, url, description, enabled_events, ordering)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${ENDPOINT_COLUMNS}`,
      [endpointId, owner.merchantId, owner.environment, url.toString(), body.description ?? null, body.enabled_events ?? ['*'], body.ordering ?? 'sequence'],
    );
    await c.query(`INSERT INTO webhook_secrets (id, endpoint_id, secret_ciphertext) VALUES ($1, $2, $3)`, [newId('whsk'), endpointId, sealSecret(masterKey, secret, endpointId)]);
    await appendEvidence(c, {
      kind: 'webhook_endpoint.created',
      subject: owner.merchantId,
      actor: owner.actor,
      payload: { endpoint_id: endpointId, environment: owner.environment, url: url.toString(), enabled_events: body.enabled_events ?? ['*'], ordering: body.ordering ?? 'sequence' },
      dedupeKey: `webhook_endpoint:${endpointId}:created`,
    });
    return { row: rows[0]!, secret: secret as string | null };
  });
}

/**
 * The cap counts enabled endpoints only, under the caller's per-merchant advisory lock so
 * concurrent creations and re-enablings cannot pass it together.
 */
async function assertBelowEnabledCap(c: DbClient, merchantId: string, environment: Environment, param: string): Promise<void> {
  await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`we:${merchantId}:${environment}`]);
  const count = await c.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM webhook_endpoints WHERE merchant_id = $1 AND environment = $2 AND status = 'enabled'`,
    [merchantId, environment],
  );
  if (count.rows[0]!.n >= ENDPOINTS_PER_MERCHANT_MAX) {
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
  return withTx(pool, async (c) => {
    const { rows } = await c.query<EndpointRow>(
      `UPDATE webhook_endpoints SET url = COALESCE($2, url), enabled_events = COALESCE($3, enabled_events),
              description = CASE WHEN $4::boolean THEN $5 ELSE description END, ordering = COALESCE($6, ordering), updated_at = now()
        WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
      [endpoint.id, url, body.enabled_events ?? null, body.description !== undefined, body.description ?? null, body.ordering ?? null],
    );
    await appendEvidence(c, {
      kind: 'webhook_endpoint.updated',
      subject: endpoint.merchant_id,
      actor,
      payload: { endpoint_id: endpoint.id, url, enabled_events: body.enabled_events ?? null, disabled: body.disabled ?? null, ordering: body.ordering ?? null },
      dedupeKey: `webhook_endpoint:${endpoint.id}:updated:${newId('upd')}`,
    });
    const notify = body.disabled === true ? (await disableEndpoint(c, endpoint.id, 'disabled_by_merchant', actor)).notify : [];
    if (body.disabled === false) await enableEndpoint(c, endpoint.id, actor);
    return { row: (await getEndpoint(c, endpoint.id)) ?? rows[0]!, notify };
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
  return withTx(pool, async (c) => {
    const { rows } = await c.query<EndpointRow>(
      `UPDATE webhook_endpoints SET status = 'deleted', deleted_at = now(), updated_at = now()
        WHERE id = $1 AND status <> 'deleted' RETURNING ${ENDPOINT_COLUMNS}`,
      [endpoint.id],
    );
    if (!rows[0]) return (await getEndpoint(c, endpoint.id))!;
    const ended = await cancelPendingDeliveries(c, endpoint.id, 'endpoint_deleted');
    await appendEvidence(c, {
      kind: 'webhook_endpoint.deleted',
      subject: endpoint.merchant_id,
      actor,
      payload: { endpoint_id: endpoint.id, pending_deliveries_ended: ended },
      dedupeKey: `webhook_endpoint:${endpoint.id}:deleted`,
    });
    return rows[0];
  });
}

/** End every pending delivery of an endpoint; answers how many ended. */
export async function cancelPendingDeliveries(c: DbClient, endpointId: string, reason: string): Promise<number> {
  const r = await c.query(
    `UPDATE webhook_deliveries SET status = 'canceled', last_error = $2, next_attempt_at = NULL, updated_at = now()
      WHERE endpoint_id = $1 AND status = 'pending'`,
    [endpointId, reason],
  );
  return r.rowCount ?? 0;
}

export async function getEndpoint(pool: Pool | DbClient, id: string): Promise<EndpointRow | undefined> {
  const { rows } = await pool.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`, [id]);
  return rows[0];
}

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
  return withTx(pool, async (c) => {
    await c.query(`SELECT id FROM webhook_endpoints WHERE id = $1 FOR UPDATE`, [endpoint.id]);
    const expires = await c.query<{ expires_at: Date }>(
      `UPDATE webhook_secrets SET expires_at = LEAST(COALESCE(expires_at, 'infinity'), now() + make_interval(secs => $2))
        WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > now()) RETURNING expires_at`,
      [endpoint.id, overlapS],
    );
    await c.query(`INSERT INTO webhook_secrets (id, endpoint_id, secret_ciphertext, created_at) VALUES ($1, $2, $3, clock_timestamp())`, [newId('whsk'), endpoint.id, sealSecret(masterKey, secret, endpoint.id)]);
    // Bounded: beyond SECRETS_ACTIVE_MAX the oldest still-valid secrets end now.
    await c.query(
      `UPDATE webhook_secrets SET expires_at = now()
        WHERE id IN (SELECT id FROM webhook_secrets WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > now())
                      ORDER BY created_at DESC OFFSET $2)`,
      [endpoint.id, SECRETS_ACTIVE_MAX],
    );
    await appendEvidence(c, {
      kind: 'webhook_endpoint.secret_rotated',
      subject: endpoint.merchant_id,
      actor,
      payload: { endpoint_id: endpoint.id, overlap_s: overlapS },
      dedupeKey: `webhook_endpoint:${endpoint.id}:rotated:${newId('rot')}`,
    });
    const previousExpiresAt = expires.rows.map((r) => r.expires_at).sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
    return { secret, previousExpiresAt };
  });
}

/** Every secret that signs right now, newest first. */
export async function activeSecrets(pool: Pool | DbClient, masterKey: Buffer, endpointId: string): Promise<string[]> {
  const { rows } = await pool.query<{ secret_ciphertext: string }>(
    `SELECT secret_ciphertext FROM webhook_secrets WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > now())
      ORDER BY created_at DESC LIMIT $2`,
    [endpointId, SECRETS_ACTIVE_MAX],
  );
  return rows.map((r) => openSecret(masterKey, r.secret_ciphertext, endpointId));
}

/**
 * Disable an endpoint and record why: an event (`webhook_endpoint.disabled`, visible in
 * GET /v1/events and to operators) and an evidence entry, in the caller's transaction; its
 * pending deliveries end, and the event's deliveries to the merchant's other subscribed
 * endpoints are planned (`notify`: the caller hands them to delivery after commit).
 * A second disable is a no-op, so a retried activity records one event.
 */
export async function disableEndpoint(c: DbClient, endpointId: string, reason: string, actor: string): Promise<{ disabled: boolean; notify: PlannedDelivery[] }> {
  const { rows } = await c.query<EndpointRow>(
    `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, disabled_at = now(), updated_at = now(), last_seq = last_seq + 1
      WHERE id = $1 AND status = 'enabled' RETURNING ${ENDPOINT_COLUMNS}`,
    [endpointId, reason],
  );
  const row = rows[0];
  if (!row) return { disabled: false, notify: [] };
  await cancelPendingDeliveries(c, row.id, 'endpoint_disabled');
  const eventId = newId('evt');
  await c.query(
    `INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data, created_at)
     VALUES ($1, $2, $3, 'webhook_endpoint.disabled', 'webhook_endpoint', $4, $5, $6, now())`,
    [eventId, row.merchant_id, row.environment, row.id, row.last_seq, JSON.stringify(endpointObject(row))],
  );
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
export async function enableEndpoint(c: DbClient, endpointId: string, actor: string): Promise<void> {
  const current = await getEndpoint(c, endpointId);
  if (!current) return;
  assertNotDeleted(current);
  if (current.status === 'enabled') return;
  await assertBelowEnabledCap(c, current.merchant_id, current.environment, 'disabled');
  const { rows } = await c.query<EndpointRow>(
    `UPDATE webhook_endpoints SET status = 'enabled', disabled_reason = NULL, disabled_at = NULL, updated_at = now()
      WHERE id = $1 AND status = 'disabled' RETURNING ${ENDPOINT_COLUMNS}`,
    [endpointId],
  );
  if (rows[0]) {
    await appendEvidence(c, {
      kind: 'webhook_endpoint.enabled',
      subject: rows[0].merchant_id,
      actor,
      payload: { endpoint_id: endpointId },
      dedupeKey: `webhook_endpoint:${endpointId}:enabled:${rows[0].last_seq}:${Date.now()}`,
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
