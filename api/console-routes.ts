// Read models for the console: operator-wide lists and a payment's timeline (transitions,
// events, postings, and whatever else the rails and webhooks record about it).
import { paymentObject, type PaymentRow } from '../activities/payment.js';
import { findPayment, pageCursor, paymentsPage } from '../activities/repositories/payments.js';
import { paymentHistory } from '../activities/repositories/payment-history.js';
import { latestMerchantsWithRails, MERCHANTS_LISTED_MAX } from '../activities/repositories/merchants.js';
import { badRequest, notFound } from './errors.js';
import type { Ctx, RouteDef } from './route-types.js';
import { ownedPayment } from './payment-commands.js';
import { evidencePack } from '../activities/evidence-pack.js';

export const TIMELINE_ROWS_MAX = 500;

export async function paymentTimeline(ctx: Ctx, row: PaymentRow) {
  const history = await paymentHistory(ctx.deps.pool, row.id, TIMELINE_ROWS_MAX);
  return {
    payment: paymentObject(row, ctx.deps.config),
    merchant_id: row.merchant_id,
    environment: row.environment,
    transitions: history.transitions,
    events: history.events,
    transfers: history.transfers,
    webhook_attempts: history.webhookAttempts.map((a) => ({ id: a.delivery_id, event_id: a.event_id, endpoint_id: a.endpoint_id, attempt: a.attempt, response_status: a.response_status, latency_ms: a.latency_ms, error: a.error, created_at: a.created_at })),
    // One row per ledger line, keyed by its entry's id.
    postings: history.postings.map((p) => ({ id: p.entry_id, gate: p.gate, tx_hash: p.tx_hash, log_index: p.log_index, reverses_id: p.reverses_id, effective_at: p.effective_at, account_id: p.account_id, amount_minor: p.amount_minor })),
    temporal: { namespace: ctx.deps.config.temporal.namespace, workflow_id: row.id, ui_url: ctx.deps.temporalUiUrl ? `${ctx.deps.temporalUiUrl}/namespaces/${ctx.deps.config.temporal.namespace}/workflows/${row.id}` : null },
  };
}

export const consoleRoutes: RouteDef[] = [
  {
    method: 'get', path: '/v1/payments/:id/evidence', summary: 'The payment\'s evidence pack: transitions, transfers, webhook attempts, postings, decisions, hash-chain proof', auth: 'merchant', scope: 'payments:read',
    handler: async (ctx) => evidencePack(ctx.deps.pool, ctx.deps.config, await ownedPayment(ctx.deps.pool, ctx.auth!, ctx.params.id!), { namespace: ctx.deps.config.temporal.namespace, uiUrl: ctx.deps.temporalUiUrl }),
  },
  {
    method: 'get', path: '/v1/admin/payments/:id/evidence', summary: 'A payment\'s evidence pack (operators)', auth: 'admin',
    handler: async (ctx) => {
      const id = ctx.params.id!;
      const row = await findPayment(ctx.deps.pool, id);
      if (!row) throw notFound('payment');
      return evidencePack(ctx.deps.pool, ctx.deps.config, row, { namespace: ctx.deps.config.temporal.namespace, uiUrl: ctx.deps.temporalUiUrl });
    },
  },
  {
    method: 'get', path: '/v1/admin/info', summary: 'Where the operator finds the Temporal UI', auth: 'admin',
    handler: async (ctx) => ({ temporal_ui_url: ctx.deps.temporalUiUrl ?? null, namespace: ctx.deps.config.temporal.namespace, rails: ctx.deps.config.rails.map((r) => ({ id: r.id, environments: r.environments })) }),
  },
  {
    method: 'get', path: '/v1/admin/merchants', summary: 'List merchants, newest first', auth: 'admin',
    handler: async (ctx) => {
      const rows = await latestMerchantsWithRails(ctx.deps.pool);
      return { object: 'list', data: rows.map((m) => ({ id: m.id, object: 'merchant', name: m.name, created_at: m.createdAt.toISOString(), rails: m.rails })), has_more: rows.length === MERCHANTS_LISTED_MAX };
    },
  },
  {
    method: 'get', path: '/v1/admin/payments', summary: 'All payments, newest first (filters merchant_id, environment, status)', auth: 'admin', query: 'AdminPaymentList',
    handler: async (ctx) => {
      const limit = ctx.query.limit ?? 50;
      const filter = { merchantId: ctx.query.merchant_id, environment: ctx.query.environment, status: ctx.query.status };
      const cursor = ctx.query.starting_after ? await pageCursor(ctx.deps.pool, ctx.query.starting_after, {}) : null;
      if (ctx.query.starting_after && !cursor) throw badRequest('cursor_invalid', 'starting_after does not name a payment', 'starting_after');
      const rows = await paymentsPage(ctx.deps.pool, filter, cursor, limit + 1);
      return { object: 'list', data: rows.slice(0, limit).map((r) => ({ ...paymentObject(r, ctx.deps.config), merchant_id: r.merchant_id, environment: r.environment })), has_more: rows.length > limit };
    },
  },
  {
    method: 'get', path: '/v1/admin/payments/:id/timeline', summary: 'A payment with its transitions, events, transfers, webhook attempts and postings', auth: 'admin',
    handler: async (ctx) => {
      const id = ctx.params.id!;
      if (!/^pay_[0-9A-Za-z]{24}$/.test(id)) throw badRequest('parameter_invalid', 'not a payment id', 'id');
      const row = await findPayment(ctx.deps.pool, id);
      if (!row) throw notFound('payment');
      return paymentTimeline(ctx, row);
    },
  },
  {
    method: 'get', path: '/v1/payments/:id/timeline', summary: 'Your payment with its transitions, events, transfers, webhook attempts and postings', auth: 'merchant', scope: 'payments:read',
    handler: async (ctx) => paymentTimeline(ctx, await ownedPayment(ctx.deps.pool, ctx.auth!, ctx.params.id!)),
  },
];
