// Payouts, the destination allowlist, refunds and sweeps over HTTP. Handlers only translate:
// the commands in payout-commands.ts write and start workflows; the workflows decide.
import type { Ctx, RouteDef } from './routes.js';
import { DESTINATION_ID_RE, payoutApprovals, payoutObject, setDualApprovalThreshold, type PayoutRow } from '../activities/payout.js';
import { destinationObject, getDestination } from '../activities/payout-destination.js';
import { destinationCursor, destinationsInStatus, destinationsOf, DESTINATIONS_LISTED_MAX, findPayout, payoutCursor, payoutsPage } from '../activities/repositories/payouts.js';
import { getSweep, sweepObject } from '../activities/sweep.js';
import { getMerchant } from '../activities/merchant.js';
import {
  approvePayout,
  cancelPayout,
  createDestination,
  createPayout,
  decideDestination,
  executeSweep,
  ownedDestination,
  ownedPayout,
  planSweepCommand,
  revokeDestination,
  setRefundAddress,
} from './payout-commands.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { operatorIdentity, operatorOf } from './operator.js';
import { MoneyError } from '../workflows/rules/money.js';

const LIMIT_DEFAULT = 10;

async function payoutAnswer(ctx: Ctx, row: PayoutRow) {
  return payoutObject(row, ctx.deps.config, await payoutApprovals(ctx.deps.pool, row.id));
}

async function listPayouts(ctx: Ctx, scope: { merchantId?: string; environment: string }) {
  const limit = ctx.query.limit ?? LIMIT_DEFAULT;
  // The cursor is looked up within the caller's scope: another merchant's payout id is refused,
  // never used as a position (which would reveal that it exists).
  const cursor = ctx.query.starting_after ? await payoutCursor(ctx.deps.pool, ctx.query.starting_after, scope) : null;
  if (ctx.query.starting_after && !cursor) throw badRequest('cursor_invalid', 'starting_after does not name one of your payouts', 'starting_after');
  const rows = await payoutsPage(ctx.deps.pool, { ...scope, status: ctx.query.status }, cursor, limit + 1);
  const data = rows.slice(0, limit).map((r) => payoutObject(r.row, ctx.deps.config, r.approvals));
  return { object: 'list', data, has_more: rows.length > limit };
}

export const payoutRoutes: RouteDef[] = [
  {
    method: 'post', path: '/v1/payout_destinations', summary: 'Ask to allowlist a payout address: usable after an operator approves and the cooling-off delay passes', auth: 'merchant', scope: 'payouts:write',
    body: 'PayoutDestinationCreate', createsIdPrefix: 'pd', status: 201,
    // The destination workflow's create step answers the entry: the API writes nothing.
    handler: (ctx) => createDestination(ctx.deps, ctx.auth!, ctx.body, ctx.resourceId),
  },
  {
    method: 'get', path: '/v1/payout_destinations', summary: 'The payout allowlist, newest first', auth: 'merchant', scope: 'payouts:read', query: 'DestinationList',
    handler: async (ctx) => {
      const limit = ctx.query.limit ?? LIMIT_DEFAULT;
      const scope = { merchantId: ctx.auth!.merchantId, environment: ctx.auth!.environment };
      const cursor = ctx.query.starting_after ? await destinationCursor(ctx.deps.pool, ctx.query.starting_after, scope) : null;
      if (ctx.query.starting_after && !cursor) throw badRequest('cursor_invalid', 'starting_after does not name one of your payout destinations', 'starting_after');
      const rows = await destinationsOf(ctx.deps.pool, scope.merchantId, scope.environment, cursor, limit + 1);
      return { object: 'list', data: rows.slice(0, limit).map(destinationObject), has_more: rows.length > limit };
    },
  },
  {
    method: 'get', path: '/v1/payout_destinations/:id', summary: 'One allowlist entry', auth: 'merchant', scope: 'payouts:read',
    handler: async (ctx) => destinationObject(await ownedDestination(ctx.deps, ctx.auth!, ctx.params.id!)),
  },
  {
    method: 'delete', path: '/v1/payout_destinations/:id', summary: 'Remove an address from the allowlist (revoked): payouts to it not yet signed are canceled and their holds released', auth: 'merchant', scope: 'payouts:write',
    handler: async (ctx) => destinationObject(await revokeDestination(ctx.deps, await ownedDestination(ctx.deps, ctx.auth!, ctx.params.id!), `api_key:${ctx.auth!.keyId}`, 'deleted by the merchant')),
  },
  {
    method: 'post', path: '/v1/payouts', summary: 'Pay out from available balance to an allowlisted address; answers pending_approval', auth: 'merchant', scope: 'payouts:write',
    body: 'PayoutCreate', createsIdPrefix: 'po', status: 201,
    // The workflow's create step answers the view: the API writes nothing.
    handler: (ctx) => createPayout(ctx.deps, ctx.auth!, ctx.body, ctx.resourceId),
  },
  { method: 'get', path: '/v1/payouts', summary: 'List payouts, newest first', auth: 'merchant', scope: 'payouts:read', query: 'PayoutList', handler: (ctx) => listPayouts(ctx, { merchantId: ctx.auth!.merchantId, environment: ctx.auth!.environment }) },
  {
    method: 'get', path: '/v1/payouts/:id', summary: 'Retrieve a payout', auth: 'merchant', scope: 'payouts:read',
    handler: async (ctx) => payoutAnswer(ctx, await ownedPayout(ctx.deps, ctx.auth!, ctx.params.id!)),
  },
  {
    method: 'post', path: '/v1/payouts/:id/cancel', summary: 'Cancel a payout before it is signed; the hold is released', auth: 'merchant', scope: 'payouts:write', body: 'PayoutCancel',
    handler: async (ctx) => {
      const own = await ownedPayout(ctx.deps, ctx.auth!, ctx.params.id!);
      // A refund was an operator's decision for the payer: only an operator may call it off.
      if (own.kind === 'refund') throw new ApiError(409, 'state_error', 'refund_cancel_operator_only', 'A refund is canceled by an operator, not by the merchant');
      return payoutAnswer(ctx, await cancelPayout(ctx.deps, ctx.params.id!, `api_key:${ctx.auth!.keyId}`, ctx.body.reason));
    },
  },
  {
    method: 'post', path: '/v1/public/payments/:public_id/refund_address', summary: 'The payer leaves a refund address for a payment under review', auth: 'public', body: 'RefundAddress',
    handler: async (ctx) => setRefundAddress(ctx.deps, ctx.params.public_id!, ctx.body.address),
  },
  // ---- operators ----
  { method: 'get', path: '/v1/admin/payouts', summary: 'Payouts of an environment, newest first', auth: 'admin', query: 'PayoutList', handler: (ctx) => listPayouts(ctx, { environment: ctx.query.environment ?? 'sandbox' }) },
  {
    method: 'get', path: '/v1/admin/payouts/:id', summary: 'Retrieve any payout, with its approvals', auth: 'admin',
    handler: async (ctx) => {
      const row = await findPayout(ctx.deps.pool, ctx.params.id!);
      if (!row) throw notFound('payout');
      return { ...(await payoutAnswer(ctx, row)), merchant_id: row.merchant_id };
    },
  },
  {
    method: 'post', path: '/v1/admin/payouts/:id/approve', summary: 'Approve a payout; above the threshold two different operators must (the same one twice counts once)', auth: 'admin', body: 'OperatorDecision',
    handler: async (ctx) => payoutAnswer(ctx, await approvePayout(ctx.deps, ctx.params.id!, operatorIdentity(ctx), ctx.body.reason)),
  },
  {
    method: 'post', path: '/v1/admin/payouts/:id/cancel', summary: 'Reject (cancel) a payout before it is signed', auth: 'admin', body: 'OperatorDecision',
    handler: async (ctx) => {
      if (!(await findPayout(ctx.deps.pool, ctx.params.id!))) throw notFound('payout');
      return payoutAnswer(ctx, await cancelPayout(ctx.deps, ctx.params.id!, operatorOf(ctx), ctx.body.reason));
    },
  },
  {
    method: 'get', path: '/v1/admin/payout_destinations', summary: 'Allowlist entries by status (default pending_approval: requests awaiting a decision), oldest first', auth: 'admin', query: 'AdminDestinationList',
    handler: async (ctx) => {
      // The oldest DESTINATIONS_LISTED_MAX; has_more says when the queue is longer than that.
      const rows = await destinationsInStatus(ctx.deps.pool, ctx.query.status ?? 'pending_approval', DESTINATIONS_LISTED_MAX + 1);
      return { object: 'list', data: rows.slice(0, DESTINATIONS_LISTED_MAX).map((r) => ({ ...destinationObject(r), merchant_id: r.merchant_id })), has_more: rows.length > DESTINATIONS_LISTED_MAX };
    },
  },
  {
    method: 'post', path: '/v1/admin/payout_destinations/:id/approve', summary: 'Approve an allowlist request: usable after the cooling-off delay', auth: 'admin', body: 'OperatorDecision',
    handler: async (ctx) => destinationObject(await decideDestination(ctx.deps, ctx.params.id!, true, operatorOf(ctx), ctx.body.reason)),
  },
  {
    method: 'post', path: '/v1/admin/payout_destinations/:id/reject', summary: 'Reject an allowlist request', auth: 'admin', body: 'OperatorDecision',
    handler: async (ctx) => destinationObject(await decideDestination(ctx.deps, ctx.params.id!, false, operatorOf(ctx), ctx.body.reason)),
  },
  {
    method: 'post', path: '/v1/admin/payout_destinations/:id/revoke', summary: 'Revoke an allowlist entry at any time, cooling-off included: no new payout to it, pending ones canceled', auth: 'admin', body: 'OperatorDecision',
    handler: async (ctx) => {
      const row = DESTINATION_ID_RE.test(ctx.params.id!) ? await getDestination(ctx.deps.pool, ctx.params.id!) : undefined;
      if (!row) throw notFound('payout destination');
      return destinationObject(await revokeDestination(ctx.deps, row, operatorOf(ctx), ctx.body.reason));
    },
  },
  {
    method: 'post', path: '/v1/admin/merchants/:id/payout_settings', summary: 'Set the amount above which two operators must approve a payout', auth: 'admin', body: 'PayoutSettings',
    handler: async (ctx) => {
      if (!(await getMerchant(ctx.deps.pool, ctx.params.id!))) throw notFound('merchant');
      try {
        await setDualApprovalThreshold(ctx.deps.pool, ctx.params.id!, ctx.body.environment, ctx.body.dual_approval_above, operatorOf(ctx));
      } catch (err) {
        if (err instanceof MoneyError) throw badRequest(err.code, err.message, 'dual_approval_above');
        throw err;
      }
      return { object: 'payout_settings', merchant_id: ctx.params.id, environment: ctx.body.environment, dual_approval_above: ctx.body.dual_approval_above };
    },
  },
  {
    method: 'post', path: '/v1/admin/sweeps', summary: 'Plan a sweep of deposit addresses into the treasury: shows amounts and network cost before anything runs', auth: 'admin', body: 'SweepPlanCreate',
    createsIdPrefix: 'swp', status: 201,
    handler: async (ctx) => sweepObject(await planSweepCommand(ctx.deps, { environment: ctx.body.environment ?? 'sandbox', rail: ctx.body.rail, min_amount: ctx.body.min_amount, operator: operatorOf(ctx) }, ctx.resourceId), ctx.deps.config),
  },
  {
    method: 'get', path: '/v1/admin/sweeps/:id', summary: 'A sweep: its plan and, once run, each transaction and fee', auth: 'admin',
    handler: async (ctx) => {
      const s = /^sw_[0-9A-Za-z]{24}$/.test(ctx.params.id!) ? await getSweep(ctx.deps.pool, ctx.params.id!) : undefined;
      if (!s) throw notFound('sweep');
      return sweepObject(s, ctx.deps.config);
    },
  },
  {
    method: 'post', path: '/v1/admin/sweeps/:id/execute', summary: 'Run a planned sweep', auth: 'admin', body: 'SweepExecute',
    handler: async (ctx) => sweepObject(await executeSweep(ctx.deps, ctx.params.id!, operatorOf(ctx)), ctx.deps.config),
  },
];
