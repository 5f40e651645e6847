// The payout workflow: one per payout (and per refund), workflow id = payout id. It waits for
// the approvals its amount needs (two different operators above the merchant's threshold),
// then signs, broadcasts and awaits the transfer through activities, and settles the ledger
// hold. Every status change is recorded through the one transition table.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PayoutRecordActivities } from '../activities/payout.js';
import type { SendActivities } from '../activities/chain/send.js';
import { dispatchEvent } from './event-dispatch.js';
import { canPayoutTransition, PAYOUT_CANCELABLE, type PayoutStatus } from './rules/payout-transitions.js';
import { SEARCH_ATTRIBUTE_KEYS } from './shared.js';
import {
  approvePayoutUpdate,
  cancelPayoutSignal,
  cancelPayoutUpdate,
  createPayoutUpdate,
  payoutStateQuery,
  refundCreatedSignal,
  refundEndedSignal,
  REFUND_OUTCOME_PATCH,
  refusalOf,
  type PayoutView,
  type ApprovePayoutRequest,
  type CancelPayoutRequest,
  type PayoutWorkflowInput,
  type PayoutWorkflowState,
  type SendRequest,
  type TransferOutcomePayload,
  operatorIdOfActor,
} from './payout-shared.js';

/**
 * Payouts since #16 follow the chain after broadcast: stuck sends are replaced, `confirmed`
 * moves the hold to in-flight, `settled` at finality, a reorg reopens. Older histories (no
 * marker) keep the single await-and-settle they recorded.
 */
export const PAYOUT_CHAIN_PATCH = 'payout-finality-and-stuck-sends';

/**
 * A payout that stays in broadcast or requires_review for days re-checks the chain every stuck
 * window, and each re-check adds events: past this many (or when the server suggests it) the
 * run continues-as-new with its state. Temporal warns at 10,240 events and ends a workflow at
 * 51,200; its suggestion comes earlier on a default server.
 */
export const PAYOUT_HISTORY_EVENTS_MAX = 5_000;
/** Runs from before it never continue-as-new (their histories have no marker). */
export const PAYOUT_CONTINUE_AS_NEW_PATCH = 'payout-continue-as-new';
/**
 * Approvals and cancels decide inside the transition queue: their checks and their writes run
 * with no other change in between, so an approval racing a cancel is either recorded before
 * it or refused, never recorded for a payout already canceled.
 */
export const PAYOUT_DECISIONS_IN_QUEUE_PATCH = 'payout-decisions-in-queue';
/** Statuses a payout ends in (`confirmed` on payouts from before finality was followed). */
const PAYOUT_ENDS = new Set(['settled', 'confirmed', 'canceled', 'failed']);

const records = proxyActivities<PayoutRecordActivities>({
  startToCloseTimeout: '30 seconds',
  // No maximumAttempts: a transition or a posting must land, and each is keyed (seq, cause).
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['IllegalPayoutTransitionError', 'PayoutTransitionOutOfOrderError', 'UnbalancedPostingError'] },
});

const send = proxyActivities<SendActivities>({
  // Short: a worker that dies while signing or broadcasting is replaced within seconds, and
  // the retry finds the recorded transaction instead of signing again.
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['SignerRefusedError'] },
});

const confirmations = proxyActivities<SendActivities>({
  // Polls until mined and confirmed; the heartbeat notices a dead worker within seconds.
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const watch = proxyActivities<SendActivities>({
  // Each call ends within the rail's stuck window (or at finality); the heartbeat notices a dead worker.
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const failureType = (err: unknown): string | null => {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof ApplicationFailure ? (cause.type ?? null) : null;
};

/** Runs the payout, then lets every Update in flight answer before the workflow closes. */
export async function payoutWorkflow(input: PayoutWorkflowInput): Promise<PayoutWorkflowState> {
  const result = await runPayout(input);
  await condition(allHandlersFinished);
  // A refund's payment waits for this: paid out, it may close; released, its money has no owner
  // until an operator decides again (workflows/payment.ts).
  if (input.create?.kind === 'refund' && !result.refused && PAYOUT_ENDS.has(result.status) && patched(REFUND_OUTCOME_PATCH)) {
    await getExternalWorkflowHandle(input.create.paymentId)
      .signal(refundEndedSignal, { refundId: input.payoutId, status: result.status, holdReleased: result.holdReleased === true })
      .catch((e) => log.warn('payment workflow not told how its refund ended', { error: String(e) }));
  }
  return result;
}

async function runPayout(input: PayoutWorkflowInput): Promise<PayoutWorkflowState> {
  const carried = input.carried;
  const state: PayoutWorkflowState = carried ? { ...carried.state } : {
    payoutId: input.payoutId,
    status: 'pending_approval',
    // seq 1 (payout.created) is written with the payout row and its hold: by the create step,
    // or, for payouts started before it existed, by the API.
    seq: 1,
    approvals: [],
    txHash: null,
    nonce: null,
    failureCode: null,
    refused: null,
  };
  // What the row says: given at start to older payouts, read back from the create step otherwise.
  let amountMinor = carried?.amountMinor ?? input.amountMinor ?? '';
  let destinationAddress = carried?.destinationAddress ?? input.destinationAddress ?? '';
  let approvalsRequired = carried?.approvalsRequired ?? input.approvalsRequired ?? Number.MAX_SAFE_INTEGER;
  const sendKey = `${input.kind}:${input.payoutId}`;
  /** What is signed: known once the row exists (its amount and destination). */
  const sendRequestNow = (): SendRequest => ({
    sendKey,
    rail: input.rail,
    environment: input.environment,
    purpose: input.kind,
    key: { rail: input.rail, kind: input.railKind, role: 'treasury' },
    asset: 'token',
    to: destinationAddress,
    amountMinor,
  });
  let sendRequest = sendRequestNow();

  /** The hold goes back to where the money came from; the state says so (a refund's payment reads it). */
  async function releaseHold(): Promise<void> {
    await records.releasePayoutHold({ payoutId: state.payoutId });
    state.holdReleased = true;
  }

  // Transitions are serialized: an approval and a cancel can race, the table decides.
  let queue: Promise<unknown> = Promise.resolve();
  /** Run a step in the queue, after every change queued before it. */
  function inQueue<T>(step: () => Promise<T>): Promise<T> {
    const next = queue.then(step);
    queue = next.catch(() => undefined);
    return next;
  }
  /** One transition, applied now: only from inside the queue. */
  async function applyTransition(to: PayoutStatus, cause: string, actor: string, opts: { reason?: string; failureCode?: string } = {}): Promise<void> {
    if (!canPayoutTransition(state.status, to)) {
      throw ApplicationFailure.nonRetryable(`payout is ${state.status}; it cannot become ${to}`, 'payout_state_conflict');
    }
    await records.recordPayoutTransition({ sendKey: `${input.kind}:${input.payoutId}`, payoutId: state.payoutId, seq: state.seq + 1, from: state.status, to, cause, actor, reason: opts.reason ?? null, failureCode: opts.failureCode ?? null });
    state.seq += 1;
    state.status = to;
    if (input.upsertSearchAttributes !== false) upsertSearchAttributes([{ key: SEARCH_ATTRIBUTE_KEYS.status, value: to }]);
    if (opts.failureCode) state.failureCode = opts.failureCode;
    await dispatchEvent(state.payoutId, state.seq);
  }
  function transition(to: PayoutStatus, cause: string, actor: string, opts: { reason?: string; failureCode?: string } = {}): Promise<void> {
    return inQueue(() => applyTransition(to, cause, actor, opts));
  }

  /**
   * Wait until no transition is queued or running. Awaiting `queue` once is not enough: a cancel
   * released by the same promise may queue its transition just before this handler resumes.
   */
  async function whenQuiet(): Promise<void> {
    for (let q = queue; ; q = queue) {
      await q;
      if (q === queue) return;
    }
  }

  setHandler(payoutStateQuery, () => ({ ...state }));

  // The create step, once: the row, transition 1 and the hold in one activity keyed by payout id.
  // The create Update (Update-with-Start from the API) and the workflow itself both await it.
  let creating: Promise<PayoutView> | null = null;
  // An older payout's row was written by the API; a continued run's by its first run.
  let created = !input.create || carried !== undefined;
  function ensureCreated(): Promise<PayoutView> {
    creating ??= (async () => {
      try {
        const r = await records.createPayoutRecord({ payoutId: input.payoutId, merchantId: input.merchantId, environment: input.environment, rail: input.rail, create: input.create! });
        amountMinor = r.amountMinor;
        destinationAddress = r.view.destination.address;
        approvalsRequired = r.approvalsRequired;
        created = true;
        return r.view;
      } catch (err) {
        state.refused = refusalOf(err, 'payout_refused');
        throw ApplicationFailure.nonRetryable(state.refused.message, state.refused.code, state.refused);
      }
    })();
    return creating;
  }
  /** Approvals and cancels wait for the row; a refused payout has none to change. */
  async function whenCreated(): Promise<void> {
    if (created) return;
    await condition(() => created || state.refused != null);
    if (state.refused) throw ApplicationFailure.nonRetryable(`payout ${input.payoutId} was refused: ${state.refused.code}`, 'payout_not_created');
  }

  setHandler(createPayoutUpdate, () => ensureCreated(), {
    validator: () => {
      if (!input.create) throw ApplicationFailure.nonRetryable('this payout was created before its workflow', 'payout_created_elsewhere');
    },
  });

  // Approvals are serialized: two operators approving at once are both recorded, and only the
  // one that completes the count moves the payout on (no spurious state conflict).
  let approving: Promise<unknown> = Promise.resolve();
  setHandler(
    approvePayoutUpdate,
    (req: ApprovePayoutRequest) => {
      const next = approving.then(async () => {
        await whenCreated();
        if (patched(PAYOUT_DECISIONS_IN_QUEUE_PATCH)) return inQueue(() => approve(req));
        await whenQuiet();
        refuseApproval(req);
        await recordApproval(req);
        if (state.approvals.length >= approvalsRequired && state.status === 'pending_approval') {
          await transition('approved', 'operators_approved', req.credentialId ? `${req.operator}@${req.credentialId}` : req.operator, { reason: req.reason });
        }
        return { ...state };
      });
      approving = next.catch(() => undefined);
      return next;
    },
    {
      validator: (req: ApprovePayoutRequest) => {
        if (!req?.operator || !req?.reason) throw ApplicationFailure.nonRetryable('operator and reason are required', 'parameter_missing');
      },
    },
  );

  /** Why this approval cannot count now, thrown; nothing when it can. */
  function refuseApproval(req: ApprovePayoutRequest): void {
    if (state.status !== 'pending_approval') {
      throw ApplicationFailure.nonRetryable(`payout is ${state.status}; only pending_approval takes approvals`, 'payout_not_pending_approval');
    }
    // Whoever asked for this money to move (the operator who decided a refund) cannot also approve it.
    if (operatorIdOfActor(input.create?.actor) === req.operator) {
      throw ApplicationFailure.nonRetryable(`${req.operator} requested this payout; another operator must approve`, 'operator_requested_payout');
    }
    // Counted once per operator: a second approval by the same person is refused, not added.
    if (state.approvals.includes(req.operator)) {
      throw ApplicationFailure.nonRetryable(`${req.operator} has approved this payout already; another operator must approve`, 'operator_already_approved');
    }
  }
  async function recordApproval(req: ApprovePayoutRequest): Promise<void> {
    const r = await records.recordPayoutApproval({ payoutId: state.payoutId, operator: req.operator, credentialId: req.credentialId, reason: req.reason });
    state.approvals = r.operators;
  }

  /** An approval: checked, recorded and, when it completes the count, applied, with nothing else in between. */
  async function approve(req: ApprovePayoutRequest): Promise<PayoutWorkflowState> {
    refuseApproval(req);
    await recordApproval(req);
    if (state.approvals.length >= approvalsRequired) {
      await applyTransition('approved', 'operators_approved', req.credentialId ? `${req.operator}@${req.credentialId}` : req.operator, { reason: req.reason });
    }
    return { ...state };
  }

  /** A cancel: refused unless the payout is still cancelable when its turn in the queue comes. */
  async function cancel(req: CancelPayoutRequest, cause: string): Promise<PayoutWorkflowState> {
    if (!PAYOUT_CANCELABLE.has(state.status)) {
      throw ApplicationFailure.nonRetryable(`payout is ${state.status}; it can be canceled only before signing`, 'payout_not_cancelable');
    }
    await applyTransition('canceled', cause, req.actor, { reason: req.reason });
    return { ...state };
  }

  setHandler(
    cancelPayoutUpdate,
    async (req: CancelPayoutRequest) => {
      await whenCreated();
      if (patched(PAYOUT_DECISIONS_IN_QUEUE_PATCH)) return inQueue(() => cancel(req, 'canceled'));
      // Once, not until quiet: a cancel accepted while `approved` is being recorded must get in
      // before the main flow queues `signing` (whenQuiet would let signing go first).
      await queue;
      if (!PAYOUT_CANCELABLE.has(state.status)) {
        throw ApplicationFailure.nonRetryable(`payout is ${state.status}; it can be canceled only before signing`, 'payout_not_cancelable');
      }
      await transition('canceled', 'canceled', req.actor, { reason: req.reason });
      return { ...state };
    },
    { validator: (req: CancelPayoutRequest) => { if (!req?.actor) throw ApplicationFailure.nonRetryable('actor is required', 'parameter_missing'); } },
  );

  // A revoked destination calls off what is not signed yet; anything later it leaves alone.
  setHandler(cancelPayoutSignal, async (req: CancelPayoutRequest) => {
    await whenCreated().catch(() => undefined);
    if (state.refused) return;
    if (patched(PAYOUT_DECISIONS_IN_QUEUE_PATCH)) {
      await inQueue(() => cancel(req, 'destination_revoked')).catch(() => undefined);
      return;
    }
    await queue;
    if (!PAYOUT_CANCELABLE.has(state.status)) return;
    await transition('canceled', 'destination_revoked', req.actor, { reason: req.reason }).catch(() => undefined);
  });

  // A continued run: created, approved, signed and broadcast by the runs before; back to watching.
  if (carried) {
    await followOnChain(carried.round);
    await queue;
    return { ...state };
  }

  // 0. Creation: nothing waits for approvals before the row and its hold exist. A refused
  // payout (insufficient balance, …) ends here with nothing written.
  if (input.create) {
    const ok = await ensureCreated().then(() => true, () => false);
    const parent = workflowInfo().parent;
    if (input.create.kind === 'refund' && parent) {
      // The payment's resolve Update answers once the refund's row and hold exist (or were refused).
      await getExternalWorkflowHandle(parent.workflowId)
        .signal(refundCreatedSignal, { refundId: input.payoutId, refused: state.refused ?? null })
        .catch((e) => log.warn('payment workflow not told of its refund', { error: String(e) }));
    }
    if (!ok) return { ...state };
  }
  queue = queue.then(() => dispatchEvent(state.payoutId, 1)).catch((e) => log.error('payout.created not dispatched', { error: String(e) }));

  // 1. Approvals, within the approval window (a durable timer).
  const decided = await condition(() => state.status !== 'pending_approval', input.approvalWindowS * 1000);
  if (!decided) await transition('canceled', 'approval_window_elapsed', 'system').catch(() => undefined);
  await queue;
  // An operator may still cancel an approved payout until this workflow task moves it on.
  if (state.status === 'canceled') {
    await releaseHold();
    return { ...state };
  }

  // 2. Sign: the nonce and the signed transaction's hash are recorded before anything is sent.
  // A cancel queued in the same instant may win: the table refuses signing then, and the hold goes back.
  try {
    await transition('signing', 'approved_for_signing', 'system');
  } catch (err) {
    await queue;
    if ((state.status as PayoutStatus) !== 'canceled') throw err;
    await releaseHold();
    return { ...state };
  }
  let outcome: TransferOutcomePayload;
  sendRequest = sendRequestNow();
  try {
    const signed = await send.signTransfer(sendRequest);
    state.txHash = signed.txHash;
    state.nonce = signed.nonce;
    // 3. Broadcast the recorded bytes; the activity looks the hash up on chain first.
    await send.broadcastTransfer({ sendKey });
  } catch (err) {
    // The signer refused or the node rejected the transaction for good: nothing left the wallet.
    const code = failureType(err) ?? 'signing_failed';
    await transition('failed', code, 'system', { failureCode: code });
    await releaseHold();
    return { ...state };
  }
  await transition('broadcast', 'broadcast', 'system');

  if (patched(PAYOUT_CHAIN_PATCH)) {
    await followOnChain();
    await queue;
    return { ...state };
  }

  // 4. Confirmations, then the ledger: paid out, or failed with the hold released.
  outcome = await confirmations.awaitTransfer({ sendKey, confirmations: input.confirmationsRequired });
  const settled = await records.settlePayout({ payoutId: state.payoutId, outcome });
  if (settled.paid) {
    await transition('confirmed', 'transfer_confirmed', 'system');
  } else {
    await transition('failed', settled.failureCode ?? 'transaction_reverted', 'system', { failureCode: settled.failureCode ?? 'transaction_reverted' });
    // Only a reverted transaction provably moved nothing. One that executed without the exact
    // Transfer may have moved tokens (a fee-on-transfer token): the hold stays for an operator,
    // and reconciliation reports the transfer.
    if (settled.releaseHold) await releaseHold();
  }
  await queue;
  return { ...state };

  /**
   * 4. Until settled: watch every signed version of the send; a stuck one is replaced (or the
   * payout waits in requires_review, holding its funds, while nothing can be sent); confirmed
   * moves the hold to in-flight; finality settles; a reorg before finality reverses the round's
   * postings and goes back to broadcast with the recorded transaction.
   */
  async function followOnChain(firstRound = 0): Promise<void> {
    for (let round = firstRound; ; ) {
      await continueAsNewIfLong(round);
      const seen = await watch.watchTransfer({ sendKey, confirmations: input.confirmationsRequired });
      if (seen.kind === 'stuck') {
        const r = await send.replaceTransfer(sendRequest);
        if (r.kind === 'replaced') {
          state.txHash = r.txHash;
          if (state.status === 'requires_review') await transition('broadcast', 'replacement_sent', 'system');
        } else if (r.kind === 'blocked' && state.status === 'broadcast') {
          await transition('requires_review', r.code, 'system', { failureCode: r.code, reason: r.message });
        }
        continue;
      }
      const outcome = seen.outcome;
      state.txHash = outcome.txHash;
      const c = await records.confirmPayout({ payoutId: state.payoutId, outcome, round });
      if (!c.paid) {
        const code = c.failureCode ?? 'transaction_reverted';
        await transition('failed', code, 'system', { failureCode: code });
        // Only a reverted transaction provably moved nothing (see the older path below).
        if (c.releaseHold) await releaseHold();
        return;
      }
      await transition('confirmed', 'transfer_confirmed', 'system');
      const fin = await watch.awaitFinality({ sendKey, blockHash: outcome.blockHash });
      if (fin.kind === 'final') {
        await records.settlePayoutFinal({ payoutId: state.payoutId, txHash: outcome.txHash });
        await transition('settled', 'transfer_final', 'system');
        return;
      }
      await records.reopenPayout({ payoutId: state.payoutId, round, txHash: outcome.txHash });
      round += 1;
      await transition('broadcast', 'reorged', 'system');
      await send.reopenTransfer({ sendKey });
    }
  }

  /**
   * Between two re-checks, a long history goes on in a new run with everything this one knows.
   * Transitions finish first (their seq is carried), and every Update in flight answers here:
   * one accepted now would be lost with this run.
   */
  async function continueAsNewIfLong(round: number): Promise<void> {
    const info = workflowInfo();
    if (!info.continueAsNewSuggested && info.historyLength < (input.historyEventsMax ?? PAYOUT_HISTORY_EVENTS_MAX)) return;
    if (!patched(PAYOUT_CONTINUE_AS_NEW_PATCH)) return;
    await whenQuiet();
    await condition(allHandlersFinished);
    await whenQuiet();
    await continueAsNew<typeof payoutWorkflow>({
      ...input,
      carried: { state: { ...state, approvals: [...state.approvals] }, amountMinor, destinationAddress, approvalsRequired, round },
    });
  }
}
