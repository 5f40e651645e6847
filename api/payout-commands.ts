// Payout commands: validate requests (reads only) and translate them into one Temporal call:
// Update-with-Start for a new payout, whose workflow writes the row and the ledger hold, and
// Updates for decisions. The rules live in workflows/rules/payout-transitions.ts and the
// workflows; a route only calls these.
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { railById, type RailConfig } from '../activities/config.js';
import { newId } from '../activities/ids.js';
import { isRailEnabled, type KeyAuth } from '../activities/merchant.js';
import type { PaymentRow } from '../activities/payment.js';
import { payoutApprovals, payoutObject, DESTINATION_ID_RE, type PayoutRow } from '../activities/payout.js';
import { findPayment, findPaymentByPublicId } from '../activities/repositories/payments.js';
import { findPayout, isDepositAddress, refundOfPayment } from '../activities/repositories/payouts.js';
import { activeDestination, destinationObject, getDestination, type DestinationRow } from '../activities/payout-destination.js';
import { getSweep, type SweepRow } from '../activities/sweep.js';
import { InvalidAddressError, normalizeRailAddress } from '../activities/chain/addresses.js';
import { MoneyError, parseAmount } from '../workflows/rules/money.js';
import {
  approveDestinationUpdate,
  approvePayoutUpdate,
  cancelPayoutUpdate,
  createDestinationUpdate,
  createPayoutUpdate,
  executeSweepUpdate,
  PAYOUT_TASK_QUEUE,
  rejectDestinationUpdate,
  revokeDestinationUpdate,
  type CreateRefusal,
  type DestinationView,
  type DestinationWorkflowInput,
  type PayoutView,
  type PayoutWorkflowInput,
} from '../workflows/payout-shared.js';
import type { payoutWorkflow } from '../workflows/payout.js';
import { resolvePaymentUpdate, setRefundAddressUpdate, startSearchAttributes, type PaymentWorkflowState } from '../workflows/shared.js';
import type { payoutDestinationWorkflow } from '../workflows/payout-destination.js';
import type { sweepWorkflow } from '../workflows/sweep.js';
import type { sweepPlanWorkflow } from '../workflows/sweep-plan.js';
import { ApiError, badRequest, notFound, typeForStatus } from './errors.js';
import { updateError, type CommandDeps } from './payment-commands.js';

export interface PayoutCommandDeps extends CommandDeps {
  /** Tests run payouts on their own queue (a worker they can kill). */
  payoutTaskQueue?: string;
  /** How long a create request waits for its workflow's answer (CREATE_ANSWER_TIMEOUT_MS by default). */
  createTimeoutMs?: number;
}

/** A create request answers 503 after this long without its workflow's answer (no payouts worker polling, …). */
export const CREATE_ANSWER_TIMEOUT_MS = 30_000;

const queueOf = (deps: PayoutCommandDeps) => deps.payoutTaskQueue ?? PAYOUT_TASK_QUEUE;

function merchantRail(deps: CommandDeps, auth: KeyAuth, railId: string): RailConfig {
  const rail = railById(deps.config, railId);
  if (!rail || !rail.environments.includes(auth.environment)) throw badRequest('rail_unknown', `No rail ${railId} is configured for ${auth.environment}`, 'rail');
  return rail;
}

function address(rail: RailConfig, value: string, param: string): string {
  try {
    return normalizeRailAddress(rail, value);
  } catch (err) {
    if (err instanceof InvalidAddressError) throw badRequest('invalid_address', err.message, param);
    throw err;
  }
}

async function start(deps: PayoutCommandDeps, workflow: string, id: string, args: unknown[]): Promise<void> {
  try {
    await deps.temporal.workflow.start(workflow, { taskQueue: queueOf(deps), workflowId: id, args, workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    deps.metrics.workflowStarts.inc({ workflow, result: 'started' });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    deps.metrics.workflowStarts.inc({ workflow, result: 'failed' });
    throw new ApiError(503, 'api_error', 'orchestrator_unavailable', `${id} was recorded but its workflow could not start yet; retry with the same Idempotency-Key`);
  }
}

// ---- destinations -------------------------------------------------------------------------

export async function createDestination(deps: PayoutCommandDeps, auth: KeyAuth, body: { rail: string; address: string; label: string }, id: string | null): Promise<DestinationView> {
  const rail = merchantRail(deps, auth, body.rail);
  const addr = address(rail, body.address, 'address');
  // The id the idempotency claim reserved: a retry with the same key reaches the same workflow.
  const destinationId = id ?? newId('pd');
  const input: DestinationWorkflowInput = {
    destinationId,
    coolingOffS: deps.config.payouts.destination_cooling_off_s,
    create: { merchantId: auth.merchantId, environment: auth.environment, rail: rail.id, address: addr, label: body.label, actor: `api_key:${auth.keyId}` },
  };
  return createdByWorkflow(deps, {
    workflow: 'payoutDestinationWorkflow', id: destinationId, args: [input] satisfies Parameters<typeof payoutDestinationWorkflow>, update: createDestinationUpdate,
    written: async () => {
      const row = await getDestination(deps.pool, destinationId);
      return row && destinationObject(row);
    },
  });
}

export async function ownedDestination(deps: CommandDeps, auth: KeyAuth, id: string): Promise<DestinationRow> {
  const row = DESTINATION_ID_RE.test(id) ? await getDestination(deps.pool, id) : undefined;
  if (!row || row.merchant_id !== auth.merchantId || row.environment !== auth.environment) throw notFound('payout destination');
  return row;
}

export async function decideDestination(deps: PayoutCommandDeps, id: string, approve: boolean, operator: string, reason: string): Promise<DestinationRow> {
  const row = DESTINATION_ID_RE.test(id) ? await getDestination(deps.pool, id) : undefined;
  if (!row) throw notFound('payout destination');
  try {
    await deps.temporal.workflow.getHandle(id).executeUpdate(approve ? approveDestinationUpdate : rejectDestinationUpdate, { args: [{ operator, reason }] });
  } catch (err) {
    updateError(err, 'destination');
  }
  return (await getDestination(deps.pool, id))!;
}

/**
 * Revoke an allowlist entry (an approver, or the merchant's DELETE): an Update on its workflow,
 * or, when that workflow has ended (the address became active), on a new run of the same id
 * started for it. Revoking twice answers the revoked entry; a rejected one cannot be revoked.
 */
export async function revokeDestination(deps: PayoutCommandDeps, row: DestinationRow, actor: string, reason: string): Promise<DestinationRow> {
  if (row.status === 'revoked') return row;
  if (row.status === 'rejected') throw new ApiError(409, 'state_error', 'destination_not_revocable', `${row.id} was rejected; there is nothing to revoke`);
  const input: DestinationWorkflowInput = { destinationId: row.id, coolingOffS: deps.config.payouts.destination_cooling_off_s, revokeOnly: true };
  const startWorkflowOperation = new WithStartWorkflowOperation('payoutDestinationWorkflow', {
    workflowId: row.id,
    taskQueue: queueOf(deps),
    args: [input] satisfies Parameters<typeof payoutDestinationWorkflow>,
    // Running (awaiting a decision or cooling off): the Update goes to it. Ended: a new run takes it.
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
  try {
    await deps.temporal.workflow.executeUpdateWithStart(revokeDestinationUpdate, { startWorkflowOperation, args: [{ actor, reason }] });
  } catch (err) {
    const refusal = refusalIn(err);
    if (refusal) throw refusalError(refusal);
    updateError(err, 'destination');
  }
  return (await getDestination(deps.pool, row.id))!;
}

// ---- payouts ------------------------------------------------------------------------------

export async function createPayout(
  deps: PayoutCommandDeps,
  auth: KeyAuth,
  body: { amount: string; rail: string; destination: string; reference: string },
  id: string | null,
): Promise<PayoutView> {
  const rail = merchantRail(deps, auth, body.rail);
  if (!(await isRailEnabled(deps.pool, auth.merchantId, auth.environment, rail.id))) throw badRequest('rail_not_enabled', `Rail ${rail.id} is not enabled for this merchant in ${auth.environment}`, 'rail');
  let amountMinor: bigint;
  try {
    amountMinor = parseAmount(body.amount, rail.decimals);
  } catch (err) {
    if (err instanceof MoneyError) throw badRequest(err.code, err.message, 'amount');
    throw err;
  }
  // An id names an allowlist entry; anything else must be a well-formed address on it.
  const ref = DESTINATION_ID_RE.test(body.destination) ? body.destination : address(rail, body.destination, 'destination');
  const dest = await activeDestination(deps.pool, { merchantId: auth.merchantId, environment: auth.environment, rail: rail.id, idOrAddress: ref });
  if (!dest) throw badRequest('destination_not_allowlisted', `${body.destination} is not on this merchant's payout allowlist for ${rail.id}; add it with POST /v1/payout_destinations`, 'destination');
  if (dest.status !== 'active') {
    throw badRequest('destination_not_usable', dest.status === 'cooling_off' ? `${dest.address} is cooling off until ${dest.usable_at?.toISOString()}` : `${dest.address} awaits an operator's approval`, 'destination');
  }
  if (!deps.config.payouts.signer) throw new ApiError(503, 'api_error', 'payouts_unavailable', 'No signer is configured (payouts.signer): payouts are off');
  // The id the idempotency claim reserved: a retry with the same key reaches the same workflow.
  const payoutId = id ?? newId('po');
  const input: PayoutWorkflowInput = {
    ...workflowTerms(deps, rail),
    payoutId,
    merchantId: auth.merchantId,
    environment: auth.environment,
    rail: rail.id,
    kind: 'payout',
    create: { kind: 'payout', amountMinor: amountMinor.toString(), destination: { id: dest.id, address: dest.address }, reference: body.reference, actor: `api_key:${auth.keyId}` },
  };
  return createdByWorkflow(deps, {
    workflow: 'payoutWorkflow', id: payoutId, args: [input] satisfies Parameters<typeof payoutWorkflow>, update: createPayoutUpdate,
    attrs: { merchantId: auth.merchantId, environment: auth.environment, rail: rail.id, status: 'pending_approval' },
    written: async () => {
      const row = await findPayout(deps.pool, payoutId);
      return row && payoutObject(row, deps.config, await payoutApprovals(deps.pool, row.id));
    },
  });
}

/** The workflow settings that come from config rather than from the request. */
function workflowTerms(deps: CommandDeps, rail: RailConfig): Pick<PayoutWorkflowInput, 'railKind' | 'approvalWindowS' | 'confirmationsRequired'> {
  return {
    railKind: rail.kind,
    approvalWindowS: deps.config.payouts.approval_window_s,
    confirmationsRequired: rail.confirmations_required,
  };
}

type SearchAttrs = { merchantId: string; environment: string; rail: string; status: string };

/** The same search attributes as payments: an engineer finds a merchant's payouts in the Temporal UI. */
function searchAttrs(_deps: CommandDeps, a: SearchAttrs) {
  return { typedSearchAttributes: startSearchAttributes(a) };
}

/** A create step's refusal as the Update failure carries it, or null for any other failure. */
function refusalIn(err: unknown): CreateRefusal | null {
  const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
  const d = cause instanceof ApplicationFailure ? (cause.details?.[0] as Partial<CreateRefusal> | undefined) : undefined;
  return cause instanceof ApplicationFailure && typeof d?.status === 'number' ? { code: cause.type ?? 'payout_refused', message: cause.message, param: d.param ?? null, status: d.status } : null;
}

const refusalError = (r: CreateRefusal) => new ApiError(r.status, typeForStatus(r.status), r.code, r.message, r.param ?? undefined);

/**
 * Creation belongs to the workflow (Update-with-Start, Temporal's early return): one call starts
 * the workflow, or finds it when a retry took over the same Idempotency-Key (same id, same
 * Update id, same answer), and waits for its create step. A refusal is the step's typed 4xx
 * (nothing was written); a workflow already closed answers what it wrote; Temporal out of reach
 * is 503 with nothing written, and the retry reaches the same workflow.
 */
async function createdByWorkflow<V>(
  deps: PayoutCommandDeps,
  o: { workflow: 'payoutWorkflow' | 'payoutDestinationWorkflow'; id: string; args: unknown[]; update: UpdateDefinition<V, []>; attrs?: SearchAttrs; written: () => Promise<V | undefined> },
): Promise<V> {
  const startWorkflowOperation = new WithStartWorkflowOperation(o.workflow, {
    workflowId: o.id,
    taskQueue: queueOf(deps),
    args: o.args,
    // A retry attaches to the running workflow; a closed one is never started again.
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    ...(o.attrs ? searchAttrs(deps, o.attrs) : {}),
  });
  try {
    const view = await deps.temporal.withDeadline(Date.now() + (deps.createTimeoutMs ?? CREATE_ANSWER_TIMEOUT_MS), () =>
      deps.temporal.workflow.executeUpdateWithStart(o.update, { startWorkflowOperation, updateId: `create:${o.id}`, args: [] }));
    deps.metrics.workflowStarts.inc({ workflow: o.workflow, result: 'update_with_start' });
    return view;
  } catch (err) {
    deps.metrics.workflowStarts.inc({ workflow: o.workflow, result: 'failed' });
    const refusal = refusalIn(err);
    if (refusal) throw refusalError(refusal);
    const what = o.workflow === 'payoutWorkflow' ? 'payout' : 'destination';
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      // Closed: it wrote its row (answered from PostgreSQL), or its create step refused it.
      const view = await o.written();
      if (view) return view;
      throw new ApiError(409, 'state_error', `${what}_closed`, `${o.id} was refused and its workflow has ended; send the request again with a new Idempotency-Key`);
    }
    if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError) updateError(err, what);
    throw new ApiError(503, 'api_error', 'orchestrator_unavailable', `${o.id} could not be confirmed by the orchestrator; retry with the same Idempotency-Key`);
  }
}

export async function ownedPayout(deps: CommandDeps, auth: KeyAuth, id: string): Promise<PayoutRow> {
  const row = await findPayout(deps.pool, id);
  if (!row || row.merchant_id !== auth.merchantId || row.environment !== auth.environment) throw notFound('payout');
  return row;
}

export async function approvePayout(deps: PayoutCommandDeps, id: string, who: { operatorId: string; credentialId: string }, reason: string): Promise<PayoutRow> {
  const row = await findPayout(deps.pool, id);
  if (!row) throw notFound('payout');
  try {
    await deps.temporal.workflow.getHandle(id).executeUpdate(approvePayoutUpdate, { args: [{ operator: who.operatorId, credentialId: who.credentialId, reason }] });
  } catch (err) {
    updateError(err, 'payout');
  }
  return (await findPayout(deps.pool, id))!;
}

export async function cancelPayout(deps: PayoutCommandDeps, id: string, actor: string, reason?: string): Promise<PayoutRow> {
  try {
    await deps.temporal.workflow.getHandle(id).executeUpdate(cancelPayoutUpdate, { args: [{ actor, reason }] });
  } catch (err) {
    updateError(err, 'payout');
  }
  return (await findPayout(deps.pool, id))!;
}

// ---- refunds ------------------------------------------------------------------------------

/** Refused before the decision or the payer's Update: a refund to one of our own deposit addresses would be another payment's money. */
export async function refuseDepositAddress(deps: Pick<CommandDeps, 'pool' | 'config'>, addr: string, param: string): Promise<void> {
  if (await isDepositAddress(deps.pool, deps.config.rails, addr)) {
    throw badRequest('destination_is_deposit_address', `${addr} is a Stablerail deposit address: refunds go to addresses outside the platform`, param);
  }
}

/** The refund address an operator's refund decision pays to: given now, or left by the payer. */
export function refundAddressFor(deps: Pick<CommandDeps, 'config'>, p: PaymentRow, given: string | undefined): string {
  if (given) return address(railById(deps.config, p.rail)!, given, 'refund_address');
  if (!p.refund_address) throw badRequest('refund_address_missing', 'A refund needs refund_address, or the payer must leave one on the payment page', 'refund_address');
  return p.refund_address;
}

/**
 * An operator's `refund` decision: one Update on the payment's workflow, which records the
 * decision and starts the refund payout as its child (the child writes the row and the hold).
 * A decision already taken long ago answers its refund from PostgreSQL, without Temporal.
 */
export async function resolveRefund(deps: PayoutCommandDeps, payment: PaymentRow, refundAddress: string, operator: string, reason: string): Promise<{ row: PaymentRow; refund: PayoutRow }> {
  const decided = payment.status === 'refunded' ? await refundOfPayment(deps.pool, payment.id) : undefined;
  if (decided) return { row: payment, refund: decided };
  const rail = railById(deps.config, payment.rail)!;
  const input: PayoutWorkflowInput = {
    ...workflowTerms(deps, rail),
    payoutId: newId('po'),
    merchantId: payment.merchant_id,
    environment: payment.environment,
    rail: rail.id,
    kind: 'refund',
    create: { kind: 'refund', paymentId: payment.id, address: refundAddress, actor: operator },
  };
  let state: PaymentWorkflowState;
  try {
    state = await deps.temporal.workflow.getHandle(payment.id).executeUpdate(resolvePaymentUpdate, { args: [{ decision: 'refund', reason, operator, refund: { input, taskQueue: queueOf(deps) } }] });
  } catch (err) {
    const refusal = refusalIn(err);
    if (refusal) throw refusalError(refusal);
    updateError(err);
  }
  const refund = state.refund ? await findPayout(deps.pool, state.refund.id) : await refundOfPayment(deps.pool, payment.id);
  if (!refund) throw new ApiError(409, 'state_error', 'refund_in_progress', `The refund of ${payment.id} is being created; retry the decision to see it`);
  return { row: (await findPayment(deps.pool, payment.id))!, refund };
}


/** The payer's refund address, from the public page: one Update; the payment workflow records it, first one wins. */
export async function setRefundAddress(deps: CommandDeps, publicId: string, value: string): Promise<{ refund_address: string }> {
  const p = await findPaymentByPublicId(deps.pool, publicId);
  if (!p) throw notFound('payment');
  const addr = address(railById(deps.config, p.rail)!, value, 'address');
  await refuseDepositAddress(deps, addr, 'address');
  // Checked here too so a closed payment answers the same code without a round trip.
  if (p.status !== 'requires_review') throw new ApiError(409, 'state_error', 'refund_not_possible', 'A refund address is taken only while the payment is under review');
  try {
    const r = await deps.temporal.workflow.getHandle(p.id).executeUpdate(setRefundAddressUpdate, { args: [{ address: addr }] });
    return { refund_address: r.address };
  } catch (err) {
    updateError(err);
  }
}

// ---- sweeps -------------------------------------------------------------------------------

export async function planSweepCommand(deps: PayoutCommandDeps, o: { environment: 'sandbox' | 'live'; rail: string; min_amount?: string; operator: string }, id: string | null): Promise<SweepRow> {
  const rail = railById(deps.config, o.rail);
  if (!rail || !rail.environments.includes(o.environment)) throw badRequest('rail_unknown', `No rail ${o.rail} is configured for ${o.environment}`, 'rail');
  let min = 0n;
  try {
    min = o.min_amount ? parseAmount(o.min_amount, rail.decimals) : 0n;
  } catch (err) {
    if (err instanceof MoneyError) throw badRequest(err.code, err.message, 'min_amount');
    throw err;
  }
  // Planning reads the chain and asks the signer for the treasury address: the payouts worker does it.
  const planId = id ?? newId('swp');
  const sweepId = await deps.temporal.workflow
    .execute<typeof sweepPlanWorkflow>('sweepPlanWorkflow', { taskQueue: queueOf(deps), workflowId: planId, args: [{ environment: o.environment, rail: rail.id, minAmountMinor: min.toString(), operator: o.operator }], workflowIdReusePolicy: 'REJECT_DUPLICATE' })
    .catch(async (err: Error) => {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return deps.temporal.workflow.getHandle(planId).result();
      const cause = (err as { cause?: { cause?: unknown } }).cause?.cause;
      if (cause instanceof ApplicationFailure) throw new ApiError(cause.type === 'signer_not_configured' ? 503 : 400, 'invalid_request_error', cause.type ?? 'sweep_plan_failed', cause.message);
      throw err;
    });
  return (await getSweep(deps.pool, sweepId as string))!;
}

export async function executeSweep(deps: PayoutCommandDeps, id: string, operator: string): Promise<SweepRow> {
  const existing = /^sw_[0-9A-Za-z]{24}$/.test(id) ? await getSweep(deps.pool, id) : undefined;
  if (!existing) throw notFound('sweep');
  if (existing.status !== 'planned' && existing.status !== 'running') {
    throw new ApiError(409, 'state_error', 'sweep_not_planned', `sweep is ${existing.status}; only a planned sweep can be executed`);
  }
  // One Temporal call: the sweep workflow starts with the execute Update, whose activity marks
  // the row running; a later execute reaches the running workflow, which refuses it.
  const rail = railById(deps.config, existing.rail)!;
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof sweepWorkflow>('sweepWorkflow', {
    workflowId: existing.id,
    taskQueue: queueOf(deps),
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [{
      sweepId: existing.id, rail: existing.rail, railKind: rail.kind, environment: existing.environment, treasuryAddress: existing.treasury_address,
      items: existing.plan.items.map((i) => ({ index: i.index, address: i.address, amountMinor: i.amountMinor, gasTopUpMinor: i.gasTopUpMinor })),
      confirmationsRequired: rail.confirmations_required,
    }],
  });
  try {
    await deps.temporal.workflow.executeUpdateWithStart(executeSweepUpdate, { startWorkflowOperation, args: [{ operator }] });
    deps.metrics.workflowStarts.inc({ workflow: 'sweepWorkflow', result: 'update_with_start' });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) updateError(err, 'sweep');
    deps.metrics.workflowStarts.inc({ workflow: 'sweepWorkflow', result: 'failed' });
    throw new ApiError(503, 'api_error', 'orchestrator_unavailable', `sweep ${existing.id} could not be started yet; retry`);
  }
  return (await getSweep(deps.pool, existing.id))!;
}
