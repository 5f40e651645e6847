// Every HTTP route in one table: method, path, who may call it, the schema of its input and
// a handler that only translates. /openapi.json is generated from this table.
import { decimalsOfAsset } from '../activities/config.js';
import {
  createApiKey,
  createMerchant,
  decideAccessRequest,
  enabledRails,
  enableSandboxRails,
  fileAccessRequest,
  getMerchant,
  listAccessRequests,
  revokeApiKey,
} from '../activities/merchant.js';
import { paymentObject, paymentTransactions, publicPaymentObject } from '../activities/payment.js';
import { findPayment, findPaymentByPublicId, pageCursor, paymentsPage } from '../activities/repositories/payments.js';
import { eventCursor, eventsPage, findOwnedEvent, type Event } from '../activities/repositories/events.js';
import { findOrderByReference, orderCursor, ordersPage } from '../activities/repositories/orders.js';
import { entryInScope } from '../activities/repositories/ledger.js';
import { verifyEvidence } from '../activities/evidence.js';
import { balances, entryLines, toCsv, type BalanceRow } from '../activities/ledger.js';
import { formatAmount } from '../workflows/rules/money.js';
import { orderObject, upsertOrders } from '../activities/orders.js';
import { consoleRoutes } from './console-routes.js';
import { operatorRoutes } from './operator-routes.js';
import { reconciliationRoutes } from './reconciliation-routes.js';
import { CsvBody } from './csv.js';
import { badRequest, notFound } from './errors.js';
import { cancelPayment, createPayment, ownedPayment, resolvePayment } from './payment-commands.js';
import { webhookRoutes } from './webhook-routes.js';
import { payoutRoutes } from './payout-routes.js';
import { devnetRoutes } from './devnet-routes.js';
import { operatorOf } from './operator.js';
import { refundAddressFor, refuseDepositAddress, resolveRefund } from './payout-commands.js';
import type { Ctx, RouteDef } from './route-types.js';

export type { AppDeps, Ctx, RouteDef } from './route-types.js';

export const LIST_LIMIT_DEFAULT = 10;

/** An upsert that changed nothing answers the order as it stands. */
async function orderByReference(ctx: Ctx, reference: string) {
  const row = await findOrderByReference(ctx.deps.pool, ctx.auth!, reference);
  if (!row) throw notFound('order', 'reference');
  return orderObject(ctx.deps.config, row);
}

export { CsvBody };

function balancesAnswer(rows: BalanceRow[], ctx: Ctx, filename: string) {
  const decimals = (asset: string) => decimalsOfAsset(ctx.deps.config, asset);
  const data = rows.map((b) => ({
    account: b.account, owner_type: b.owner_type, owner_id: b.owner_id, purpose: b.purpose, asset: b.asset,
    balance: formatAmount(b.balance_minor, decimals(b.asset)), balance_minor: b.balance_minor.toString(),
  }));
  if (ctx.query.format === 'csv') {
    return new CsvBody(filename, toCsv(['account', 'owner_type', 'owner_id', 'purpose', 'asset', 'balance', 'balance_minor', 'as_of_utc'],
      data.map((d) => [d.account, d.owner_type, d.owner_id, d.purpose, d.asset, d.balance, d.balance_minor, ctx.query.as_of ?? new Date().toISOString()])));
  }
  return { object: 'list', as_of: ctx.query.as_of ?? null, data, has_more: false };
}

/**
 * The CSV's fee columns: on the lines of a `network_fee` entry (what the chain charged for a
 * payout, refund or sweep, in the network's own asset) the fee that entry books; empty elsewhere.
 */
function feeColumns(l: { gate: string | null; asset: string; amount_minor: string }, decimals: (asset: string) => number): [string, string] {
  if (l.gate !== 'network_fee') return ['', ''];
  const minor = BigInt(l.amount_minor);
  return [formatAmount(minor < 0n ? -minor : minor, decimals(l.asset)), l.asset];
}

/** A merchant as operators read it, with its rails per environment. */
function merchantObject(m: { id: string; name: string; created_at: Date }, rails: Array<{ environment: string; rail_id: string }>) {
  return {
    id: m.id, object: 'merchant', name: m.name, created_at: m.created_at.toISOString(),
    rails: { sandbox: rails.filter((r) => r.environment === 'sandbox').map((r) => r.rail_id), live: rails.filter((r) => r.environment === 'live').map((r) => r.rail_id) },
  };
}

async function ledgerEntries(ctx: Ctx) {
  const auth = ctx.auth!;
  const limit = ctx.query.limit ?? 100;
  if (ctx.query.starting_after) {
    // Only an entry of the caller's merchant and environment is a position to page from.
    if (!(await entryInScope(ctx.deps.pool, ctx.query.starting_after, auth))) throw badRequest('cursor_invalid', 'starting_after does not name one of your ledger entries', 'starting_after');
  }
  const lines = await entryLines(ctx.deps.pool, { environment: auth.environment, merchantId: auth.merchantId, asOf: ctx.query.as_of ? new Date(ctx.query.as_of) : undefined, afterEntryId: ctx.query.starting_after, limit: limit + 1 });
  const entryIds = [...new Set(lines.map((l) => l.entry_id))];
  const keep = new Set(entryIds.slice(0, limit));
  const decimals = (asset: string) => decimalsOfAsset(ctx.deps.config, asset);
  const rows = lines.filter((l) => keep.has(l.entry_id));
  if (ctx.query.format === 'csv') {
    return new CsvBody('ledger-entries.csv', toCsv(
      ['time_utc', 'entry_id', 'line', 'account', 'purpose', 'asset', 'amount', 'amount_minor', 'fee_amount', 'fee_asset', 'gate', 'payment_id', 'payout_id', 'merchant_reference', 'tx_hash', 'log_index', 'rail', 'reverses_entry_id', 'memo'],
      rows.map((l) => [new Date(l.effective_at).toISOString(), l.entry_id, l.line_no, l.account, l.purpose, l.asset, formatAmount(BigInt(l.amount_minor), decimals(l.asset)), l.amount_minor, ...feeColumns(l, decimals), l.gate, l.payment_id, l.payout_id, l.reference, l.tx_hash, l.log_index, l.rail, l.reverses_id, l.memo]),
    ));
  }
  const byEntry = new Map<string, any>();
  for (const l of rows) {
    let e = byEntry.get(l.entry_id);
    if (!e) {
      e = { id: l.entry_id, object: 'ledger_entry', effective_at: new Date(l.effective_at).toISOString(), gate: l.gate, payment_id: l.payment_id, payout_id: l.payout_id, reference: l.reference, rail: l.rail, tx_hash: l.tx_hash, log_index: l.log_index, reverses: l.reverses_id, memo: l.memo, lines: [] };
      byEntry.set(l.entry_id, e);
    }
    e.lines.push({ account: l.account, purpose: l.purpose, asset: l.asset, amount: formatAmount(BigInt(l.amount_minor), decimals(l.asset)), amount_minor: l.amount_minor });
  }
  return { object: 'list', data: [...byEntry.values()], has_more: entryIds.length > limit };
}


async function listPayments(ctx: Ctx) {
  const auth = ctx.auth!;
  const limit: number = ctx.query.limit ?? LIST_LIMIT_DEFAULT;
  const scope = { merchantId: auth.merchantId, environment: auth.environment };
  const cursor = ctx.query.starting_after ? await pageCursor(ctx.deps.pool, ctx.query.starting_after, scope) : null;
  if (ctx.query.starting_after && !cursor) throw badRequest('cursor_invalid', 'starting_after does not name one of your payments', 'starting_after');
  // Keyset pagination on (created_at, id), newest first, served by the matching index.
  const rows = await paymentsPage(ctx.deps.pool, { ...scope, status: ctx.query.status, reference: ctx.query.reference }, cursor, limit + 1);
  return { object: 'list', data: rows.slice(0, limit).map((r) => paymentObject(r, ctx.deps.config)), has_more: rows.length > limit };
}

async function listEvents(ctx: Ctx) {
  const auth = ctx.auth!;
  const limit: number = ctx.query.limit ?? LIST_LIMIT_DEFAULT;
  const scope = { merchantId: auth.merchantId, environment: auth.environment };
  const cursor = ctx.query.starting_after ? await eventCursor(ctx.deps.pool, ctx.query.starting_after, scope) : null;
  if (ctx.query.starting_after && !cursor) throw badRequest('cursor_invalid', 'starting_after does not name one of your events', 'starting_after');
  const rows = await eventsPage(ctx.deps.pool, { ...scope, type: ctx.query.type, objectId: ctx.query.object_id }, cursor, limit + 1);
  return {
    object: 'list',
    data: rows.slice(0, limit).map(eventObject),
    has_more: rows.length > limit,
  };
}

const eventObject = (e: Event) => ({ id: e.id, object: 'event', type: e.type, created_at: e.createdAt.toISOString(), sequence: e.sequence, data: e.data });

export const routes: RouteDef[] = [
  ...consoleRoutes,
  ...operatorRoutes,
  ...reconciliationRoutes,
  {
    method: 'post', path: '/v1/payments', summary: 'Create a payment and start its workflow', auth: 'merchant', scope: 'payments:write',
    body: 'PaymentCreate', createsIdPrefix: 'pay', status: 201,
    handler: async (ctx) => createPayment(ctx.deps, ctx.auth!, ctx.body, ctx.resourceId),
  },
  { method: 'get', path: '/v1/payments', summary: 'List payments, newest first', auth: 'merchant', scope: 'payments:read', query: 'PaymentList', handler: listPayments },
  {
    method: 'get', path: '/v1/payments/:id', summary: 'Retrieve a payment', auth: 'merchant', scope: 'payments:read',
    handler: async (ctx) => paymentObject(await ownedPayment(ctx.deps.pool, ctx.auth!, ctx.params.id!), ctx.deps.config),
  },
  {
    method: 'post', path: '/v1/payments/:id/cancel', summary: 'Cancel a payment that has received nothing', auth: 'merchant', scope: 'payments:write', body: 'Empty',
    handler: async (ctx) => paymentObject(await cancelPayment(ctx.deps, ctx.auth!, ctx.params.id!), ctx.deps.config),
  },
  { method: 'get', path: '/v1/events', summary: 'List events, newest first', auth: 'merchant', scope: 'events:read', query: 'EventList', handler: listEvents },
  {
    // The event a webhook delivered, looked up again by its id (the `webhook-id` header).
    method: 'get', path: '/v1/events/:id', summary: 'Retrieve an event', auth: 'merchant', scope: 'events:read',
    handler: async (ctx) => {
      const e = await findOwnedEvent(ctx.deps.pool, { merchantId: ctx.auth!.merchantId, environment: ctx.auth!.environment }, ctx.params.id!);
      if (!e) throw notFound('event');
      return eventObject(e);
    },
  },
  ...webhookRoutes,
  ...payoutRoutes,
  ...devnetRoutes,
  {
    method: 'post', path: '/v1/access_requests', summary: 'Ask for live rails (reviewed by an operator)', auth: 'merchant', scope: 'access_requests:write', body: 'AccessRequestCreate', status: 201,
    handler: async (ctx) => fileAccessRequest(ctx.deps.pool, ctx.deps.config, ctx.auth!.merchantId, ctx.body),
  },
  {
    method: 'get', path: '/v1/rails', summary: 'Rails enabled for this key\'s merchant and environment', auth: 'merchant',
    handler: async (ctx) => {
      const on = (await enabledRails(ctx.deps.pool, ctx.auth!.merchantId)).filter((r) => r.environment === ctx.auth!.environment).map((r) => r.rail_id);
      const data = ctx.deps.config.rails.filter((r) => on.includes(r.id)).map((r) => ({
        id: r.id, object: 'rail', asset: r.asset, network: r.network, kind: r.kind, decimals: r.decimals,
        // Which contract the payer must use: a merchant shows it so no other token is sent.
        token_contract: r.token_contract, chain_id: r.chain_id ?? null,
        confirmations_required: r.confirmations_required, finality_confirmations: r.finality_confirmations, payment_window_s: r.payment_window_s,
        explorer_tx_url: r.explorer_tx_url ?? null, devnet: r.devnet === true,
      }));
      return { object: 'list', data, has_more: false };
    },
  },
  {
    method: 'get', path: '/v1/public/payments/:public_id', summary: 'Public payer view: no key, nothing secret', auth: 'public',
    handler: async (ctx) => {
      const id = ctx.params.public_id!;
      const row = await findPaymentByPublicId(ctx.deps.pool, id);
      if (!row) throw notFound('payment', 'public_id');
      const view = publicPaymentObject(row, ctx.deps.config);
      // Simulatable only where the Simulate route exists: a process that runs the devnet.
      return { ...view, simulatable: view.simulatable && !!ctx.deps.devnetPayer, transactions: await paymentTransactions(ctx.deps.pool, ctx.deps.config, row) };
    },
  },
  {
    method: 'get', path: '/v1/ledger/balances', summary: 'The merchant\'s ledger balances (pending, available) per asset; as_of and format=csv', auth: 'merchant', scope: 'ledger:read', query: 'LedgerBalances',
    handler: async (ctx) => balancesAnswer(await balances(ctx.deps.pool, { environment: ctx.auth!.environment, merchantId: ctx.auth!.merchantId, asOf: ctx.query.as_of ? new Date(ctx.query.as_of) : undefined }), ctx, 'ledger-balances.csv'),
  },
  {
    method: 'get', path: '/v1/ledger/entries', summary: 'The merchant\'s ledger entries, oldest first; as_of, cursor and format=csv', auth: 'merchant', scope: 'ledger:read', query: 'LedgerEntries',
    handler: ledgerEntries,
  },
  {
    method: 'post', path: '/v1/orders', summary: 'Record an order (commerce truth); upserted by reference', auth: 'merchant', scope: 'orders:write', body: 'OrderCreate', status: 201,
    handler: async (ctx) => (await upsertOrders(ctx.deps.pool, ctx.deps.config, ctx.auth!.merchantId, ctx.auth!.environment, [ctx.body]))[0] ?? orderByReference(ctx, ctx.body.reference),
  },
  {
    method: 'post', path: '/v1/orders/batch', summary: 'Record up to 1000 orders at once (the CSV import uses it)', auth: 'merchant', scope: 'orders:write', body: 'OrderBatch',
    handler: async (ctx) => {
      const changed = await upsertOrders(ctx.deps.pool, ctx.deps.config, ctx.auth!.merchantId, ctx.auth!.environment, ctx.body.orders);
      return { object: 'order_batch', received: ctx.body.orders.length, changed: changed.length };
    },
  },
  {
    method: 'get', path: '/v1/orders', summary: 'List orders, newest first', auth: 'merchant', scope: 'payments:read', query: 'OrderList',
    handler: async (ctx) => {
      const limit = ctx.query.limit ?? LIST_LIMIT_DEFAULT;
      // The cursor within the caller's merchant and environment: another's order id is refused, not paged from.
      const cursor = ctx.query.starting_after ? await orderCursor(ctx.deps.pool, ctx.query.starting_after, ctx.auth!) : null;
      if (ctx.query.starting_after && !cursor) throw badRequest('cursor_invalid', 'starting_after does not name one of your orders', 'starting_after');
      const rows = await ordersPage(ctx.deps.pool, { ...ctx.auth!, reference: ctx.query.reference }, cursor, limit + 1);
      return { object: 'list', data: rows.slice(0, limit).map((r) => orderObject(ctx.deps.config, r)), has_more: rows.length > limit };
    },
  },
  // Operator API
  {
    method: 'get', path: '/v1/admin/ledger/balances', summary: 'Every account of an environment (custody, merchants, fees); as_of and format=csv', auth: 'admin', query: 'AdminLedgerBalances',
    handler: async (ctx) => balancesAnswer(await balances(ctx.deps.pool, { environment: ctx.query.environment ?? 'sandbox', asOf: ctx.query.as_of ? new Date(ctx.query.as_of) : undefined }), ctx, 'platform-balances.csv'),
  },
  {
    method: 'post', path: '/v1/admin/merchants', summary: 'Create a merchant (sandbox rails enabled)', auth: 'admin', body: 'MerchantCreate', status: 201,
    handler: async (ctx) => {
      const m = await createMerchant(ctx.deps.pool, ctx.deps.config, ctx.body.name, operatorOf(ctx));
      return { id: m.id, object: 'merchant', name: m.name, created_at: m.created_at.toISOString(), rails: { sandbox: m.sandbox_rails, live: [] } };
    },
  },
  {
    method: 'get', path: '/v1/admin/merchants/:id', summary: 'Retrieve a merchant and its rails', auth: 'admin',
    handler: async (ctx) => {
      const m = await getMerchant(ctx.deps.pool, ctx.params.id!);
      if (!m) throw notFound('merchant');
      return merchantObject(m, await enabledRails(ctx.deps.pool, m.id));
    },
  },
  {
    method: 'post', path: '/v1/admin/merchants/:id/sandbox_rails', summary: 'Enable sandbox rails a merchant lacks (added to the config after it was created): the named ones, or all', auth: 'admin', body: 'SandboxRailsEnable',
    handler: async (ctx) => {
      const m = await getMerchant(ctx.deps.pool, ctx.params.id!);
      if (!m) throw notFound('merchant');
      await enableSandboxRails(ctx.deps.pool, ctx.deps.config, m.id, ctx.body.rails, operatorOf(ctx));
      return merchantObject(m, await enabledRails(ctx.deps.pool, m.id));
    },
  },
  {
    method: 'post', path: '/v1/admin/merchants/:id/api_keys', summary: 'Create an API key; the secret is answered once', auth: 'admin', body: 'ApiKeyCreate', status: 201,
    handler: async (ctx) => {
      if (!(await getMerchant(ctx.deps.pool, ctx.params.id!))) throw notFound('merchant');
      const k = await createApiKey(ctx.deps.pool, ctx.params.id!, ctx.body.environment, ctx.body.scopes ?? ALL_SCOPES, operatorOf(ctx));
      return { id: k.id, object: 'api_key', merchant_id: k.merchant_id, environment: k.environment, scopes: k.scopes, prefix: k.prefix, secret: k.secret, created_at: k.created_at.toISOString() };
    },
  },
  {
    method: 'post', path: '/v1/admin/api_keys/:id/revoke', summary: 'Revoke an API key at once', auth: 'admin', body: 'OperatorAction',
    handler: async (ctx) => {
      const k = await revokeApiKey(ctx.deps.pool, ctx.params.id!, operatorOf(ctx));
      if (!k) throw notFound('api_key');
      return { id: k.id, object: 'api_key', merchant_id: k.merchant_id, environment: k.environment, prefix: k.prefix, revoked_at: k.revoked_at.toISOString() };
    },
  },
  { method: 'get', path: '/v1/admin/access_requests', summary: 'List access requests', auth: 'admin', query: 'AccessRequestList', handler: async (ctx) => ({ object: 'list', data: await listAccessRequests(ctx.deps.pool, ctx.query.status), has_more: false }) },
  {
    method: 'post', path: '/v1/admin/access_requests/:id/approve', summary: 'Approve an access request: enables its live rails', auth: 'admin', body: 'AccessRequestDecision',
    handler: async (ctx) => decideAccessRequest(ctx.deps.pool, ctx.params.id!, 'approved', operatorOf(ctx), ctx.body.reason, ctx.body.rails),
  },
  {
    method: 'post', path: '/v1/admin/access_requests/:id/reject', summary: 'Reject an access request', auth: 'admin', body: 'AccessRequestDecision',
    handler: async (ctx) => decideAccessRequest(ctx.deps.pool, ctx.params.id!, 'rejected', operatorOf(ctx), ctx.body.reason),
  },
  {
    method: 'post', path: '/v1/admin/payments/:id/resolve', summary: 'Resolve a payment exception (accept, refund, write_off)', auth: 'admin', body: 'PaymentResolve',
    handler: async (ctx) => {
      // A refund needs somewhere to go before the decision is taken: checked first; then one
      // Update, whose handler records the decision and starts the refund payout as its child.
      const before = await findPayment(ctx.deps.pool, ctx.params.id!);
      if (!before) throw notFound('payment');
      const refundTo = ctx.body.decision === 'refund' ? refundAddressFor(ctx.deps, before, ctx.body.refund_address) : null;
      if (refundTo) await refuseDepositAddress(ctx.deps, refundTo, 'refund_address');
      const { row, refund } = refundTo
        ? await resolveRefund(ctx.deps, before, refundTo, operatorOf(ctx), ctx.body.reason)
        : { row: await resolvePayment(ctx.deps, ctx.params.id!, { decision: ctx.body.decision, reason: ctx.body.reason, operator: operatorOf(ctx) }), refund: null };
      return { ...paymentObject(row, ctx.deps.config), refund: refund ? { id: refund.id, status: refund.status, destination: refund.destination_address } : null };
    },
  },
  {
    method: 'get', path: '/v1/admin/evidence/verify', summary: 'Verify the evidence hash chain', auth: 'admin',
    handler: async (ctx) => verifyEvidence(ctx.deps.pool),
  },
];

import { SCOPES } from '../activities/merchant.js';
const ALL_SCOPES = [...SCOPES];
