// The activities of webhook delivery: which endpoints an event goes to (planDeliveries, on the
// payments queue), one signed HTTP attempt with its log row (attemptDelivery, on the webhooks
// queue), and the end of a delivery whose retries ran out (concludeDelivery). Each is
// idempotent: rows are keyed by delivery id and attempt number.
import { log } from '@temporalio/activity';
import type { DbClient, Pool } from '../db.js';
import { withTx } from '../db.js';
import type { StablerailConfig } from '../config.js';
import { appendEvidence } from '../evidence.js';
import { DomainError } from '../merchant.js';
import { signatureHeader } from '../../sdk/signature.js';
import { nextDelayMs, parseRetryAfterMs } from '../../workflows/rules/retry-schedule.js';
import { deliveryIdFor, type AttemptRequest, type AttemptResult, type DeliveryInput, type DeliveryKind, type PlannedDelivery } from '../../workflows/webhook-shared.js';
import { activeSecrets, disableEndpoint, ENDPOINTS_PER_MERCHANT_MAX, subscriptionKeys } from './endpoints.js';
import { parseEndpointUrl, resolveTarget, urlPolicy } from './url-guard.js';
import { postPinned, SendError } from './http-sender.js';

export const USER_AGENT = 'Stablerail-Webhooks/1';

/** The activity's logger when running as an activity; silent when called directly (scripts, tests). */
function warn(message: string, attrs: Record<string, unknown>): void {
  try {
    log.warn(message, attrs);
  } catch { /* not in an activity context */ }
}
export const ERROR_TEXT_MAX = 500;

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

interface AttemptContext {
  event_id: string;
  type: string;
  sequence: number;
  data: unknown;
  created_at: Date;
  url: string;
  environment: 'sandbox' | 'live';
  status: 'enabled' | 'disabled';
}

/** The payload, serialized once: these exact bytes are signed and sent. */
export function payloadBytes(e: { id: string; type: string; created_at: Date; sequence: number; data: unknown }): Buffer {
  return Buffer.from(JSON.stringify({ id: e.id, type: e.type, created_at: e.created_at.toISOString(), sequence: e.sequence, data: e.data }), 'utf8');
}

export interface EventHead {
  id: string;
  type: string;
  merchant_id: string;
  environment: string;
}

/**
 * The enabled endpoints subscribed to one event, with their pending delivery rows written.
 * Called in the transaction that writes the event (payments), so the plan commits with it and
 * the workflow starts the deliveries without another activity; idempotent by delivery id.
 */
export async function planEventDeliveries(c: DbClient, e: EventHead): Promise<PlannedDelivery[]> {
  const { rows } = await c.query<{ id: string }>(
    `SELECT id FROM webhook_endpoints WHERE merchant_id = $1 AND environment = $2 AND status = 'enabled' AND enabled_events && $3::text[]
      ORDER BY created_at, id LIMIT $4`,
    [e.merchant_id, e.environment, subscriptionKeys(e.type), ENDPOINTS_PER_MERCHANT_MAX],
  );
  const planned = rows.map((w) => ({ deliveryId: deliveryIdFor(e.id, w.id), eventId: e.id, endpointId: w.id }));
  await insertDeliveries(c, planned.map((p) => ({ ...p, kind: 'automatic' as const })));
  return planned;
}

export function createWebhookDispatchActivities(deps: { pool: Pool }) {
  const { pool } = deps;
  return {
    /** The enabled endpoints subscribed to one event; writes their pending delivery rows. */
    async planDeliveries(ref: { objectId: string; sequence: number }): Promise<PlannedDelivery[]> {
      return withTx(pool, async (c) => {
        const ev = await c.query<EventHead>(
          `SELECT id, type, merchant_id, environment FROM events WHERE object_id = $1 AND sequence = $2`,
          [ref.objectId, ref.sequence],
        );
        const e = ev.rows[0];
        if (!e) throw new Error(`no event for ${ref.objectId} at sequence ${ref.sequence}`);
        return planEventDeliveries(c, e);
      });
    },
  };
}

export function createWebhookDeliveryActivities(deps: { pool: Pool; config: StablerailConfig; masterKey: Buffer }) {
  const { pool, config, masterKey } = deps;
  return {
    async attemptDelivery(req: AttemptRequest): Promise<AttemptResult> {
      const prior = await pool.query(`SELECT outcome, response_status, error FROM webhook_attempts WHERE delivery_id = $1 AND attempt = $2`, [req.deliveryId, req.attempt]);
      if (prior.rows[0]) {
        // Already made and logged (a replayed request): answer what happened, never send twice.
        const p = prior.rows[0];
        return { outcome: p.outcome, responseStatus: p.response_status, retryAfterMs: null, error: p.error };
      }
      const ctxRows = await pool.query<AttemptContext>(
        `SELECT e.id AS event_id, e.type, e.sequence, e.data, e.created_at, w.url, w.environment, w.status
           FROM events e JOIN webhook_endpoints w ON w.id = $2 AND w.merchant_id = e.merchant_id AND w.environment = e.environment
          WHERE e.id = $1`,
        [req.eventId, req.endpointId],
      );
      const ctx = ctxRows.rows[0];
      if (!ctx || ctx.status !== 'enabled') {
        await pool.query(`UPDATE webhook_deliveries SET status = 'canceled', last_error = 'endpoint_disabled', next_attempt_at = NULL, updated_at = now() WHERE id = $1 AND status = 'pending'`, [req.deliveryId]);
        return { outcome: 'endpoint_disabled', responseStatus: null, retryAfterMs: null, error: 'endpoint_disabled' };
      }
      const body = payloadBytes({ id: ctx.event_id, type: ctx.type, created_at: ctx.created_at, sequence: ctx.sequence, data: ctx.data });
      // Set per attempt: a retry three days later carries a fresh timestamp the receiver's tolerance accepts.
      const timestampS = Math.floor(Date.now() / 1000);
      const secrets = await activeSecrets(pool, masterKey, req.endpointId);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        // The event id: every attempt and redelivery of one event carries the same id, so receivers dedupe on it.
        'webhook-id': ctx.event_id,
        'webhook-timestamp': String(timestampS),
        'webhook-signature': signatureHeader(secrets, ctx.event_id, timestampS, body),
      };

      let responseStatus: number | null = null;
      let excerpt: string | null = null;
      let retryAfterMs: number | null = null;
      let error: string | null = null;
      let latencyMs = 0;
      try {
        const policy = urlPolicy(ctx.environment, config);
        const target = await resolveTarget(parseEndpointUrl(ctx.url, policy), policy);
        const r = await postPinned(target, headers, body, config.webhooks.attempt_timeout_ms);
        responseStatus = r.status;
        excerpt = r.excerpt;
        latencyMs = r.latencyMs;
        if (r.status === 429 || r.status === 503) retryAfterMs = parseRetryAfterMs(r.retryAfter, Date.now());
        if (r.status >= 300 && r.status < 400) error = 'redirect_not_followed';
      } catch (err) {
        if (err instanceof SendError) {
          error = `${err.code}: ${err.message}`.slice(0, ERROR_TEXT_MAX);
          latencyMs = err.latencyMs;
        } else if (err instanceof DomainError) {
          error = `${err.code}: ${err.message}`.slice(0, ERROR_TEXT_MAX);
        } else throw err;
      }
      const outcome: AttemptResult['outcome'] =
        responseStatus !== null && responseStatus >= 200 && responseStatus < 300 ? 'delivered' : responseStatus === 410 ? 'gone' : 'failed';
      const nextMs = outcome === 'failed' ? nextDelayMs(req.attempt, req.jitterRand, retryAfterMs) : undefined;

      await withTx(pool, async (c) => {
        const ins = await c.query(
          `INSERT INTO webhook_attempts (delivery_id, attempt, endpoint_id, event_id, url, request_headers, request_body, response_status,
                                         response_body_excerpt, latency_ms, error, outcome)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (delivery_id, attempt) DO NOTHING`,
          [req.deliveryId, req.attempt, req.endpointId, ctx.event_id, ctx.url, JSON.stringify(headers), body.toString('utf8'), responseStatus, excerpt, latencyMs, error, outcome],
        );
        if (ins.rowCount === 0) return;
        await c.query(
          `UPDATE webhook_deliveries SET attempt_count = GREATEST(attempt_count, $2), last_response_status = $3, last_error = $4,
                  status = CASE WHEN $5 = 'delivered' THEN 'succeeded' WHEN $5 = 'gone' THEN 'failed' ELSE status END,
                  next_attempt_at = CASE WHEN $6::bigint IS NULL THEN NULL ELSE now() + make_interval(secs => $6::bigint / 1000.0) END,
                  updated_at = now()
            WHERE id = $1`,
          [req.deliveryId, req.attempt, responseStatus, error, outcome, nextMs ?? null],
        );
        await appendEvidence(c, {
          kind: 'webhook.attempt',
          subject: req.endpointId,
          actor: 'system',
          payload: { delivery_id: req.deliveryId, attempt: req.attempt, event_id: ctx.event_id, response_status: responseStatus, outcome, latency_ms: latencyMs },
          dedupeKey: `webhook_attempt:${req.deliveryId}:${req.attempt}`,
        });
        // 410 Gone: the receiver asked us to stop sending to this URL.
        if (outcome === 'gone') await disableEndpoint(c, req.endpointId, 'gone', 'system');
      });
      if (outcome === 'gone') warn('webhook endpoint disabled', { endpointId: req.endpointId, reason: 'gone', deliveryId: req.deliveryId });
      return { outcome, responseStatus, retryAfterMs, error };
    },

    /** Retries ran out: the delivery failed and the endpoint is disabled, with an operator-visible event. */
    async concludeDelivery(i: DeliveryInput & { reason: 'retries_exhausted' }): Promise<{ endpointDisabled: boolean }> {
      const r = await withTx(pool, async (c) => {
        await c.query(`UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = now() WHERE id = $1 AND status = 'pending'`, [i.deliveryId]);
        return { endpointDisabled: await disableEndpoint(c, i.endpointId, i.reason, 'system') };
      });
      if (r.endpointDisabled) warn('webhook endpoint disabled', { endpointId: i.endpointId, reason: i.reason, deliveryId: i.deliveryId });
      return r;
    },
  };
}

export type WebhookDispatchActivities = ReturnType<typeof createWebhookDispatchActivities>;
export type WebhookDeliveryActivities = ReturnType<typeof createWebhookDeliveryActivities>;
