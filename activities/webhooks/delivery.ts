// The activities of webhook delivery. One signed HTTP attempt with its log row (attemptOnce),
// made in three places: by the activity that records an event (its first attempt, so a healthy
// endpoint costs Temporal nothing beyond the recording), by a lane workflow's step (the retries
// of one object's events to one endpoint, in sequence order), and by a single delivery workflow
// (redeliveries, recoveries, endpoints with ordering "none"). Each is idempotent: rows are keyed
// by delivery id and attempt number.
import { log } from '@temporalio/activity';
import { heartbeating } from '../heartbeat.js';
import type { Pool } from '../db.js';
import { withTx } from '../db.js';
import type { StablerailConfig } from '../config.js';
import { appendEvidence } from '../evidence.js';
import { DomainError, type Environment } from '../merchant.js';
import { signatureHeader } from '../../sdk/signature.js';
import { ATTEMPTS_MAX, nextDelayMs, parseRetryAfterMs } from '../../workflows/rules/retry-schedule.js';
import type { AttemptRequest, AttemptResult, DeliveryInput, DeliveryKind, FirstAttempt, LaneStep, LaneStepRequest, PlannedDelivery } from '../../workflows/webhook-shared.js';
import { activeSecrets, disableEndpoint } from './endpoints.js';
import * as deliveries from '../repositories/webhook-deliveries.js';
import { endpointById, insertRecoveryRows } from '../repositories/webhook-endpoints.js';
import { eventAt } from '../repositories/events.js';
import { insertDeliveries, planEventDeliveries, type EventHead } from './plan.js';
import { parseEndpointUrl, resolveTarget, urlPolicy } from './url-guard.js';
import { postPinned, SendError } from './http-sender.js';

export { insertDeliveries, planEventDeliveries };
export const USER_AGENT = 'Stablerail-Webhooks/1';
export const ERROR_TEXT_MAX = 500;
/**
 * The first attempt runs inside the activity that recorded the event, which holds that
 * object's next change: a receiver slower than this is left to the lane's retries.
 */
export const FIRST_ATTEMPT_TIMEOUT_MS = 5_000;
/** How often an attempt in flight tells Temporal its worker is alive (the heartbeat timeout is a few times this). */
export const HEARTBEAT_INTERVAL_MS = 1_000;

/** The activity's logger when running as an activity; silent when called directly (scripts, tests). */
function warn(message: string, attrs: Record<string, unknown>): void {
  try {
    log.warn(message, attrs);
  } catch { /* not in an activity context */ }
}

/** The payload, serialized once: these exact bytes are signed and sent. */
export function payloadBytes(e: { id: string; type: string; created_at: Date; sequence: number; data: unknown }): Buffer {
  return Buffer.from(JSON.stringify({ id: e.id, type: e.type, created_at: e.created_at.toISOString(), sequence: e.sequence, data: e.data }), 'utf8');
}

export type { EventHead };

export interface SendDeps {
  pool: Pool;
  config: StablerailConfig;
  masterKey: Buffer;
}

export interface AttemptDone extends AttemptResult {
  /** On failure: the wait before the next attempt, as recorded in next_attempt_at; undefined when none is left. */
  nextDelayMs: number | undefined;
  /** Deliveries of a webhook_endpoint.disabled event this attempt caused (a 410), to hand to delivery. */
  notify: PlannedDelivery[];
}

/**
 * One attempt: sign the exact bytes, pass the SSRF guard on the address actually connected to,
 * POST, and log the attempt with the delivery's new state and an evidence entry in one
 * transaction. An attempt already logged (a retried activity) is answered, never sent again.
 */
export async function attemptOnce(deps: SendDeps, req: AttemptRequest, timeoutMs = deps.config.webhooks.attempt_timeout_ms): Promise<AttemptDone> {
  const { pool, config, masterKey } = deps;
  const p = await deliveries.priorAttempt(pool, req.deliveryId, req.attempt);
  if (p) {
    const ms = (await deliveries.deliveryState(pool, req.deliveryId))?.due_in_ms;
    return { outcome: p.outcome as AttemptResult['outcome'], responseStatus: p.response_status, retryAfterMs: null, error: p.error, nextDelayMs: ms === null || ms === undefined ? undefined : Math.round(ms), notify: [] };
  }
  const ctx = await deliveries.attemptContext(pool, req.eventId, req.endpointId);
  if (!ctx || ctx.status !== 'enabled') {
    const reason = ctx?.status === 'deleted' ? 'endpoint_deleted' : 'endpoint_disabled';
    await deliveries.cancelDelivery(pool, req.deliveryId, reason);
    return { outcome: 'endpoint_disabled', responseStatus: null, retryAfterMs: null, error: reason, nextDelayMs: undefined, notify: [] };
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
    const policy = urlPolicy(ctx.environment as Environment, config);
    const target = await resolveTarget(parseEndpointUrl(ctx.url, policy), policy);
    const r = await heartbeating(postPinned(target, headers, body, timeoutMs), HEARTBEAT_INTERVAL_MS);
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

  const notify = await withTx(pool, async (c) => {
    const logged = await deliveries.recordAttempt(c, {
      deliveryId: req.deliveryId, attempt: req.attempt, url: ctx.url, requestHeaders: headers, requestBody: body.toString('utf8'),
      responseStatus, responseBodyExcerpt: excerpt, latencyMs, error, outcome, nextMs: nextMs ?? null,
    });
    if (!logged) return [];
    await appendEvidence(c, {
      kind: 'webhook.attempt',
      subject: req.endpointId,
      actor: 'system',
      payload: { delivery_id: req.deliveryId, attempt: req.attempt, event_id: ctx.event_id, response_status: responseStatus, outcome, latency_ms: latencyMs },
      dedupeKey: `webhook_attempt:${req.deliveryId}:${req.attempt}`,
    });
    // 410 Gone: the receiver asked us to stop sending to this URL.
    return outcome === 'gone' ? (await disableEndpoint(c, req.endpointId, 'gone', 'system')).notify : [];
  });
  if (outcome === 'gone') warn('webhook endpoint disabled', { endpointId: req.endpointId, reason: 'gone', deliveryId: req.deliveryId });
  return { outcome, responseStatus, retryAfterMs, error, nextDelayMs: nextMs, notify };
}

/** Retries ran out: the delivery failed and the endpoint is disabled, with its event to the merchant's other endpoints. */
export async function concludeExhausted(pool: Pool, i: DeliveryInput): Promise<{ endpointDisabled: boolean; notify: PlannedDelivery[] }> {
  const r = await withTx(pool, async (c) => {
    await deliveries.markExhausted(c, i.deliveryId);
    const d = await disableEndpoint(c, i.endpointId, 'retries_exhausted', 'system');
    return { endpointDisabled: d.disabled, notify: d.notify };
  });
  if (r.endpointDisabled) warn('webhook endpoint disabled', { endpointId: i.endpointId, reason: 'retries_exhausted', deliveryId: i.deliveryId });
  return r;
}

/** Whether an earlier event of the same object is still pending to this endpoint (then this one waits its turn). */
async function earlierPending(pool: Pool, p: PlannedDelivery): Promise<boolean> {
  return deliveries.earlierEventPending(pool, p.objectId!, p.sequence!, p.endpointId);
}

/** A first attempt already made (the recording activity retried after it): what it came to. */
async function firstAlreadyMade(pool: Pool, deliveryId: string): Promise<FirstAttempt | null> {
  const d = await deliveries.deliveryState(pool, deliveryId);
  if (!d) return { outcome: 'endpoint_disabled', nextDelayMs: null };
  if (d.status === 'succeeded') return { outcome: 'delivered', nextDelayMs: null };
  if (d.status === 'canceled') return { outcome: 'endpoint_disabled', nextDelayMs: null };
  if (d.status === 'failed') return { outcome: 'gone', nextDelayMs: null };
  if (d.attempt_count > 0) return { outcome: 'failed', nextDelayMs: d.due_in_ms === null ? 0 : Math.round(d.due_in_ms) };
  return null;
}

/**
 * The first attempt of each planned delivery, made by the activity that recorded the event,
 * after its commit. A delivery whose endpoint keeps order and has an earlier event of the same
 * object still pending is not sent (`queued`): the lane delivers it in turn. The answer is the
 * plan with each first attempt's outcome, plus the deliveries of any webhook_endpoint.disabled
 * event a 410 caused; the workflow hands whatever is not delivered to a lane or a delivery child.
 */
export async function sendFirstAttempts(deps: SendDeps, planned: PlannedDelivery[]): Promise<PlannedDelivery[]> {
  const notify: PlannedDelivery[] = [];
  const out = await Promise.all(
    planned.map(async (p): Promise<PlannedDelivery> => {
      if (p.objectId === undefined || p.sequence === undefined) return p;
      const made = await firstAlreadyMade(deps.pool, p.deliveryId);
      if (made) return { ...p, first: made };
      if (p.ordering !== 'none' && (await earlierPending(deps.pool, p))) return { ...p, first: { outcome: 'queued', nextDelayMs: null } };
      const r = await attemptOnce(deps, { deliveryId: p.deliveryId, eventId: p.eventId, endpointId: p.endpointId, attempt: 1, jitterRand: Math.random() }, Math.min(FIRST_ATTEMPT_TIMEOUT_MS, deps.config.webhooks.attempt_timeout_ms));
      notify.push(...r.notify);
      return { ...p, first: { outcome: r.outcome, nextDelayMs: r.outcome === 'failed' ? (r.nextDelayMs ?? 0) : null } };
    }),
  );
  return [...out, ...notify];
}

/**
 * One step of a lane (one object's events to one endpoint, in sequence): find the earliest
 * pending delivery and make its next attempt. A delivery that used its last attempt ends failed
 * and disables the endpoint, which ends the others.
 */
export async function laneStep(deps: SendDeps, input: LaneStepRequest): Promise<LaneStep> {
  const { pool } = deps;
  const status = (await endpointById(pool, input.endpointId))?.status;
  if (status !== 'enabled') {
    // Disabled or deleted while this lane slept: its pending deliveries end, nothing is sent.
    await deliveries.cancelLane(pool, input.objectId, input.endpointId, status === 'deleted' ? 'endpoint_deleted' : 'endpoint_disabled');
    return { kind: 'idle' };
  }
  const h = await deliveries.laneHead(pool, input.objectId, input.endpointId);
  if (!h) return { kind: 'idle' };
  if (h.attempt_count > 0 && h.due_ms !== null && h.due_ms > input.nowMs) return { kind: 'wait', waitMs: Math.ceil(h.due_ms - input.nowMs) };
  const attempt = h.attempt_count + 1;
  const di = { deliveryId: h.id, eventId: h.event_id, endpointId: input.endpointId };
  if (attempt > ATTEMPTS_MAX) {
    const c = await concludeExhausted(pool, di);
    return { kind: 'attempted', deliveryId: h.id, attempt: h.attempt_count, outcome: 'failed', nextDelayMs: null, notify: c.notify };
  }
  const r = await attemptOnce(deps, { ...di, attempt, jitterRand: input.jitterRand });
  const notify = [...r.notify];
  if (r.outcome === 'failed' && r.nextDelayMs === undefined) notify.push(...(await concludeExhausted(pool, di)).notify);
  return { kind: 'attempted', deliveryId: h.id, attempt, outcome: r.outcome, nextDelayMs: r.outcome === 'failed' ? (r.nextDelayMs ?? null) : null, notify };
}

export function createWebhookDispatchActivities(deps: { pool: Pool; config: StablerailConfig; masterKey?: Buffer }) {
  const { pool } = deps;
  const send = deps.masterKey ? { pool, config: deps.config, masterKey: deps.masterKey } : null;
  return {
    /**
     * The enabled endpoints subscribed to one event; writes their pending delivery rows and,
     * on a worker that can sign, makes each first attempt.
     */
    async planDeliveries(ref: { objectId: string; sequence: number }): Promise<PlannedDelivery[]> {
      const planned = await withTx(pool, async (c) => {
        const e = await eventAt(c, ref.objectId, ref.sequence);
        if (!e) throw new Error(`no event for ${ref.objectId} at sequence ${ref.sequence}`);
        return planEventDeliveries(c, e);
      });
      return send ? sendFirstAttempts(send, planned) : planned;
    },

    /** First attempts of deliveries planned with their event (payment.created, written by the create Update). */
    async sendFirstAttempts(planned: PlannedDelivery[]): Promise<PlannedDelivery[]> {
      return send ? sendFirstAttempts(send, planned) : planned;
    },
  };
}

export function createWebhookDeliveryActivities(deps: SendDeps) {
  const { pool } = deps;
  return {
    async attemptDelivery(req: AttemptRequest): Promise<AttemptResult & { notify?: PlannedDelivery[] }> {
      const r = await attemptOnce(deps, req);
      return { outcome: r.outcome, responseStatus: r.responseStatus, retryAfterMs: r.retryAfterMs, error: r.error, notify: r.notify };
    },

    /** A redelivery's or recovery's pending row, written by its own workflow (idempotent by delivery id). */
    async recordDelivery(d: DeliveryInput & { kind: DeliveryKind }): Promise<void> {
      await insertDeliveries(pool, [d]);
    },

    /**
     * A recovery's pending rows (kind recovery), written by its own workflow before it hands them
     * to their lanes or delivery children: only for events not already pending to (or delivered
     * to) the endpoint, and idempotent by delivery id. Answers the deliveries to hand over.
     */
    async recordRecovery(planned: PlannedDelivery[]): Promise<PlannedDelivery[]> {
      const endpointId = planned[0]?.endpointId;
      if (!endpointId) return [];
      // Two recoveries of one endpoint at once: the lock lets the second see the first's rows.
      const mine = await withTx(pool, (c) => insertRecoveryRows(c, endpointId, planned));
      return planned.filter((p) => mine.has(p.deliveryId));
    },

    /** Retries ran out: the delivery failed and the endpoint is disabled, with an operator-visible event. */
    async concludeDelivery(i: DeliveryInput & { reason: 'retries_exhausted' }): Promise<{ endpointDisabled: boolean; notify: PlannedDelivery[] }> {
      return concludeExhausted(pool, i);
    },

    async laneStep(input: LaneStepRequest): Promise<LaneStep> {
      return laneStep(deps, input);
    },
  };
}

export type WebhookDispatchActivities = ReturnType<typeof createWebhookDispatchActivities>;
export type WebhookDeliveryActivities = ReturnType<typeof createWebhookDeliveryActivities>;
