// The payment workflow: one per payment, workflow id = payment id. It decides; the
// activities it calls record. Every status change goes through `transition`, which
// checks the one transition table and records the row, event and evidence entry
// in a single idempotent activity before the new status becomes visible.
import {
  ApplicationFailure,
  allHandlersFinished,
  patched,
  condition,
  proxyLocalActivities,
  continueAsNew,
  ParentClosePolicy,
  startChild,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  log,
} from '@temporalio/workflow';
import type { PaymentActivities } from '../activities/payment.js';
import type { TreasuryActivities } from '../activities/treasury.js';
import { dispatchEvent as dispatchTo, handOff, sendThenHandOff, startDeliveries, WEBHOOK_LANES_PATCH } from './event-dispatch.js';
import type { PlannedDelivery } from './webhook-shared.js';
import { canTransition, FINAL_STATUSES, type ExceptionCode, type PaymentStatus } from './rules/transitions.js';
import { allFinal, decide, lateTransfers, sumMinor } from './rules/matching.js';
import { minorFromString, minorToString } from './rules/money.js';
import { DEFAULT_RECOGNITION_GATES } from './rules/recognition-gates.js';
import {
  cancelPaymentUpdate,
  createPaymentUpdate,
  paymentChainSignal,
  paymentStateQuery,
  resolvePaymentUpdate,
  setRefundAddressUpdate,
  SEARCH_ATTRIBUTE_KEYS,
  startSearchAttributes,
  type PaymentWorkflowInput,
  type PaymentWorkflowState,
  type ResolveRequest,
  type RefundAddressRequest,
  type CancelRequest,
  type PaymentChainUpdate,
  type PaymentCreateRequest,
  type PaymentView,
  type PostedTransfer,
  paymentReconciledSignal,
  paymentReconciledUpdate,
} from './shared.js';
import type { ChainTransferView } from './rules/matching.js';
import { REFUND_OUTCOME_PATCH, refundCreatedSignal, refundEndedSignal } from './payout-shared.js';
import type { payoutWorkflow } from './payout.js';

const { recordTransition, recordRefundAddress, releaseDepositAddress, recordLateTransfers, recordAmountReceived } = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    // No maximumAttempts: a database outage must not lose a transition, and the activity is idempotent.
    nonRetryableErrorTypes: ['IllegalTransitionError', 'TransitionOutOfOrderError'],
  },
});

// Creation runs as a local activity: its result lands in the same workflow task that answers
// the create Update, one round trip instead of an activity task's three.
const creation = proxyLocalActivities<PaymentActivities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '100 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    // No maximumAttempts: a database outage delays the row, it never half-creates it (the API
    // answers 503 at its deadline and the retry with the same key attaches to this Update).
    nonRetryableErrorTypes: ['rail_unknown', 'payment_id_conflict', 'payment_missing'],
  },
});

/** Update-with-Start delivers the create Update in the first workflow task; this bounds a start without it. */
const CREATE_WAIT_MAX = '1 hour';
/**
 * Fewer promises, markers and timers on the creation path (docs/benchmarks.md: the SDK
 * captures a stack for every promise a workflow makes): the create wait has no timer while the
 * create Update runs; an empty delivery plan asks no webhook patch (three markers and three
 * search attribute upserts per payment before); a payment with nothing to post skips the gates'
 * call. Histories recorded before replay the old path.
 */
export const LEAN_WAITS_PATCH = 'payment-lean-waits';

const treasury = proxyActivities<TreasuryActivities>({
  startToCloseTimeout: '30 seconds',
  // No maximumAttempts: a posting must land, and postings are keyed by their cause.
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['UnbalancedPostingError'] },
});

const DEFAULT_GATES = DEFAULT_RECOGNITION_GATES;

function posted(t: ChainTransferView): PostedTransfer {
  const i = t.key.lastIndexOf(':');
  return { key: t.key, txHash: t.key.slice(0, i), logIndex: Number(t.key.slice(i + 1)), blockHash: t.blockHash, amountMinor: t.amountMinor };
}
const sameInclusion = (a: PostedTransfer, t: ChainTransferView) => a.key === t.key && a.blockHash === t.blockHash;

export const WEBHOOK_DISPATCH_PATCH = 'webhook-dispatch';
/** A refund decision starts the refund payout as a child workflow (before: the API wrote it). */
export const REFUND_CHILD_PATCH = 'refund-child-workflow';
/** How long a refund decision waits for the refund's row and hold before answering `refund_in_progress`. */
const REFUND_CREATE_WAIT_MS = 60_000;

/** Money reaching a recognized, refunded or written-off payment is recorded as an exception (before: kept in state only). */
export const LATE_MONEY_PATCH = 'late-money-exception';

/** amount_received follows the chain between transitions (detected, under review); before: only on a transition. */
export const AMOUNT_RECEIVED_LIVE_PATCH = 'amount-received-live';

/** Deliveries planned by the activity that records the event: no planning activity of their own. */
export const DELIVERIES_PLANNED_WITH_EVENT_PATCH = 'deliveries-planned-with-event';

/**
 * Payments started before webhook delivery existed replay without these commands; those
 * recorded before planning moved into the recording transaction replay the planning activity.
 */
async function dispatchEvent(objectId: string, sequence: number, planned: PlannedDelivery[] | undefined, firstAttemptsMade: boolean, lean: () => boolean): Promise<void> {
  // Nothing planned (no endpoint subscribed) in an execution on the lean path: nothing to
  // hand off, so no promise chain and no patch to ask (each patch is a marker and a search
  // attribute upsert in the history). Any execution on the lean path runs the patched code.
  if (planned?.length === 0 && lean()) return;
  if (!patched(WEBHOOK_DISPATCH_PATCH)) return;
  if (planned && patched(DELIVERIES_PLANNED_WITH_EVENT_PATCH)) {
    // The recording activity made the first attempts (recordTransition does; the create Update's
    // local activity does not, so payment.created's are made by one activity here).
    if (patched(WEBHOOK_LANES_PATCH)) await (firstAttemptsMade ? handOff(planned) : sendThenHandOff(planned));
    else await startDeliveries(planned);
  } else await dispatchTo(objectId, sequence);
}

export async function paymentWorkflow(input: PaymentWorkflowInput): Promise<PaymentWorkflowState> {
  // Payments whose row the API wrote before starting the workflow carry their window in the
  // input; they replay down the path they were recorded on (no create Update).
  const rowWrittenByApi = input.expiresAtMs !== undefined;
  let created = input.carried !== undefined || rowWrittenByApi;
  let createFailure: ApplicationFailure | null = null;
  let createdView: PaymentView | null = null;
  let createdPlanned: PlannedDelivery[] | undefined;
  let createStarted = false;
  // Asked once per run: a run (or its replay) is on the lean path throughout or not at all.
  let leanPatched: boolean | undefined;
  const lean = (): boolean => (leanPatched ??= patched(LEAN_WAITS_PATCH));
  const state: PaymentWorkflowState = input.carried ?? {
    paymentId: input.paymentId,
    status: 'awaiting_payment',
    exceptionCode: null,
    seq: 1, // seq 1 (payment.created) is written with the payment row, by the create Update
    amountMinor: input.amountMinor,
    amountReceivedMinor: '0',
    expiresAtMs: input.expiresAtMs ?? 0,
    chainVersion: 0,
    transfers: [],
    countedKeys: [],
    finalReached: false,
  };

  // Transitions are serialized: an Update and the timer can race, the table decides.
  let queue: Promise<unknown> = Promise.resolve();
  function transition(
    to: PaymentStatus,
    cause: string,
    actor: string,
    opts: { exceptionCode?: ExceptionCode | null; reason?: string; amountReceivedMinor?: string; countedKeys?: string[]; conflictCode?: string } = {},
  ): Promise<void> {
    const next = queue.then(async () => {
      if (!canTransition(state.status, to)) {
        // A request that lost a race (two cancels at once) answers with its own documented code.
        throw ApplicationFailure.nonRetryable(
          `payment is ${state.status}; it cannot become ${to}`,
          opts.conflictCode ?? 'payment_state_conflict',
        );
      }
      const exceptionCode = to === 'requires_review' ? (opts.exceptionCode ?? null) : null;
      const amountReceivedMinor = opts.amountReceivedMinor ?? state.amountReceivedMinor;
      const recorded = await recordTransition({
        paymentId: state.paymentId,
        seq: state.seq + 1,
        from: state.status,
        to,
        cause,
        actor,
        exceptionCode,
        amountReceivedMinor,
        reason: opts.reason,
      });
      state.amountReceivedMinor = amountReceivedMinor;
      if (opts.countedKeys) state.countedKeys = opts.countedKeys;
      state.seq += 1;
      state.status = to;
      state.exceptionCode = exceptionCode;
      if (input.upsertSearchAttributes !== false) upsertSearchAttributes([{ key: SEARCH_ATTRIBUTE_KEYS.status, value: to }]);
      // Inside the serialized queue: each event's first attempts finish before the next event is recorded.
      await dispatchEvent(state.paymentId, state.seq, recorded.planned, true, lean);
    });
    queue = next.catch(() => undefined);
    return next;
  }

  setHandler(paymentStateQuery, () => ({ ...state }));

  // POST /v1/payments: Update-with-Start. The handler writes the row (with its address,
  // transition 1, event and evidence) and answers the payment object; a retry of the same
  // request carries the same Update id, which Temporal answers from the first outcome.
  setHandler(createPaymentUpdate, async (req: PaymentCreateRequest): Promise<PaymentView> => {
    if (createdView) return createdView;
    // Created by an earlier run (continue-as-new) or by the API before this path: read it.
    if (created) return creation.paymentView(state.paymentId);
    createStarted = true;
    try {
      const r = await creation.createPaymentRecord({
        paymentId: input.paymentId,
        merchantId: input.merchantId,
        environment: input.environment,
        rail: input.rail,
        amountMinor: input.amountMinor,
        ...req,
      });
      state.expiresAtMs = r.expiresAtMs;
      createdPlanned = r.planned;
      createdView = r.view;
      created = true;
      return r.view;
    } catch (err) {
      // Only a non-retryable refusal gets here; no row was written.
      const cause = err instanceof ApplicationFailure ? err : (err as { cause?: unknown }).cause;
      createFailure = cause instanceof ApplicationFailure ? cause : ApplicationFailure.nonRetryable(String(err), 'payment_not_created');
      throw createFailure;
    }
  });

  if (!created) {
    // Started by Update-with-Start, the create Update is already running (its handler ran when
    // it was registered above): wait for it without a timer. The bound is for a start without it.
    // Before this patch a timer was started here and, unless the local activity outlasted the
    // workflow task, cancelled in the same task (so it is in few histories).
    if (createStarted && lean()) await condition(() => created || createFailure !== null);
    else await condition(() => created || createFailure !== null, CREATE_WAIT_MAX);
    if (!created) {
      await condition(allHandlersFinished);
      // Failed, not completed: the id may be started again by a retry once the cause is gone.
      throw createFailure ?? ApplicationFailure.nonRetryable('no create Update arrived for this payment', 'payment_not_created');
    }
  }

  // payment.created (seq 1) was written with the payment row; it is dispatched here, once.
  if (!input.carried) {
    queue = queue.then(() => dispatchEvent(state.paymentId, 1, createdPlanned, false, lean)).catch((e) => log.error('payment.created not dispatched', { error: String(e) }));
  }

  setHandler(
    cancelPaymentUpdate,
    async ({ actor }) => {
      await transition('canceled', 'merchant_cancel', actor, { conflictCode: 'payment_not_cancelable' });
      return { ...state };
    },
    {
      validator: (_req: CancelRequest) => {
        // Cancel is only for a payment that has seen no money: after that it is the state machine's call.
        if (state.status !== 'awaiting_payment') {
          throw ApplicationFailure.nonRetryable(`payment is ${state.status}; only awaiting_payment can be canceled`, 'payment_not_cancelable');
        }
      },
    },
  );

  // A refund decision starts the refund payout as a child workflow: its create step writes
  // the payout row and the hold (docs/payouts.md), and tells this workflow when they exist.
  setHandler(refundCreatedSignal, ({ refundId, refused }) => {
    if (state.refund?.id !== refundId || state.refund.status !== 'creating') return;
    state.refund = { id: refundId, status: refused ? 'refused' : 'created', refusal: refused };
  });
  /** A refund decided and still running: the payment stays open to hear how it ends. */
  const refundRunning = () => state.status === 'refunded' && state.refund?.status === 'created' && !state.refund.ended;
  /** Decided, then canceled or failed with the hold released: the money is the payment's again, undecided. */
  const refundReleased = () => state.status === 'refunded' && state.refund?.ended?.holdReleased === true;
  /** The decision answers once the refund's row and hold exist, or with the refusal its create step gave. */
  async function refundWritten(): Promise<void> {
    if (!(await condition(() => state.refund?.status !== 'creating', REFUND_CREATE_WAIT_MS))) {
      throw ApplicationFailure.nonRetryable(`refund ${state.refund?.id} is being created; retry the decision to see it`, 'refund_in_progress');
    }
    const refusal = state.refund?.refusal;
    if (refusal) throw ApplicationFailure.nonRetryable(refusal.message, refusal.code, refusal);
  }

  async function resolve(req: ResolveRequest): Promise<PaymentWorkflowState> {
    // The view in PostgreSQL can show requires_review a moment before this workflow applies it
    // (the recording activity has returned, its continuation has not run): let it land first.
    await queue;
    // A retried refund decision answers the refund it already started, never a second one.
    if (req.decision === 'refund' && state.status === 'refunded' && state.refund) {
      await refundWritten();
      return { ...state };
    }
    if (state.status !== 'requires_review') {
      throw ApplicationFailure.nonRetryable(`payment is ${state.status}; only requires_review can be resolved`, 'payment_not_in_review');
    }
    // The refund's hold took the money out of pending and its release put it in custody: the
    // confirmed postings are gone, so accepting would recognize money the ledger no longer holds.
    if (req.decision === 'accept' && state.exceptionCode === 'refund_failed') {
      throw ApplicationFailure.nonRetryable('the refund of this payment was canceled or failed; refund it again or write it off', 'accept_not_possible');
    }
    // Payments resolved before refunds were child workflows replay without starting one.
    const refundsAsChild = req.decision === 'refund' && patched(REFUND_CHILD_PATCH);
    const refund = refundsAsChild ? req.refund : undefined;
    if (refundsAsChild) {
      if (!refund) throw ApplicationFailure.nonRetryable('A refund needs a refund address', 'refund_address_missing');
      if (minorFromString(state.amountReceivedMinor) <= 0n) throw ApplicationFailure.nonRetryable('no money was received for this payment', 'nothing_to_refund');
    }
    const to: PaymentStatus = req.decision === 'accept' ? 'confirmed' : req.decision === 'refund' ? 'refunded' : 'written_off';
    // Accepting counts the money the chain shows now, and says so in amount_received (the ledger
    // posts every counted transfer); a later change to it is a new exception.
    const keys = (state.transfers ?? []).map((t) => t.key);
    const countedKeys = to === 'confirmed' ? keys : undefined;
    const amountReceivedMinor = to === 'confirmed' ? minorToString(sumMinor(state.transfers ?? [])) : undefined;
    await transition(to, `operator_${req.decision}`, req.operator, { reason: req.reason, countedKeys, amountReceivedMinor, conflictCode: 'payment_not_in_review' });
    // What a refund or write-off covered: money after it is late money (lateTransfers).
    if (to !== 'confirmed') state.resolvedKeys = keys;
    if (refund) {
      state.refund = { id: refund.input.payoutId, status: 'creating', refusal: null };
      await startChild<typeof payoutWorkflow>('payoutWorkflow', {
        workflowId: refund.input.payoutId,
        taskQueue: refund.taskQueue,
        args: [refund.input],
        // The refund outlives this payment's workflow: it waits for approvals, then the chain.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        ...(input.upsertSearchAttributes !== false
          ? { typedSearchAttributes: startSearchAttributes({ merchantId: input.merchantId, environment: input.environment, rail: input.rail, status: 'pending_approval' }) }
          : {}),
      });
      await refundWritten();
    }
    return { ...state };
  }

  // Decisions are serialized: two at once (or a retry) see each other's outcome.
  let resolving: Promise<unknown> = Promise.resolve();
  setHandler(
    resolvePaymentUpdate,
    (req: ResolveRequest) => {
      const next = resolving.then(() => resolve(req));
      resolving = next.catch(() => undefined);
      return next;
    },
    {
      validator: (req: ResolveRequest) => {
        // Only what cannot change while a transition is in flight is refused here; status is checked in the handler.
        if (!req.reason || !req.operator) throw ApplicationFailure.nonRetryable('reason and operator are required', 'parameter_missing');
      },
    },
  );

  // The payer's refund address (public page): taken only while an operator may still decide.
  // A new handler adds no command to existing histories, so it needs no patch.
  setHandler(
    setRefundAddressUpdate,
    async ({ address }: RefundAddressRequest) => {
      const r = await recordRefundAddress(state.paymentId, address);
      if (!r.set) throw ApplicationFailure.nonRetryable('A refund address was already left for this payment; the merchant can give another one to the operator', 'refund_address_already_set');
      return r;
    },
    {
      validator: (_req: RefundAddressRequest) => {
        if (state.status !== 'requires_review') throw ApplicationFailure.nonRetryable('A refund address is taken only while the payment is under review', 'refund_not_possible');
      },
    },
  );

  // A reconciliation run matched this payment: the last recognition gate can pass. The Update
  // refuses a payment that left `confirmed`, so the run marks only what the workflow accepted.
  setHandler(
    paymentReconciledUpdate,
    (_req: { runId: string }) => {
      state.reconciled = true;
      chainDirty = true;
      return { status: state.status };
    },
    {
      validator: (_req: { runId: string }) => {
        if (state.status !== 'confirmed') throw ApplicationFailure.nonRetryable(`payment is ${state.status}; only confirmed can be reconciled`, 'payment_not_confirmed');
      },
    },
  );
  // Runs recorded before the Update still signal.
  setHandler(paymentReconciledSignal, () => {
    state.reconciled = true;
    chainDirty = true;
  });

  /**
   * The treasury gates (docs/treasury.md). Detection posts nothing. Confirmed (or accepted)
   * money is posted to the merchant's pending balance per transfer inclusion; an inclusion the
   * chain no longer shows is reversed; pending moves to available and the payment becomes
   * recognized once the rail's gates hold: finality, no open exception, matched by reconciliation.
   */
  async function runTreasuryGates(): Promise<void> {
    const now = state.transfers ?? [];
    // 1. Reverse postings whose inclusion is gone (a reorg, or mined again in another block).
    for (const list of ['postedAvailable', 'postedPending'] as const) {
      const gone = (state[list] ?? []).filter((p) => !now.some((t) => sameInclusion(p, t)));
      for (const g of gone) {
        await treasury.reverseTransferPostings({ paymentId: state.paymentId, txHash: g.txHash, logIndex: g.logIndex, blockHash: g.blockHash, reorgId: `v${state.chainVersion ?? 0}` });
      }
      if (gone.length) state[list] = (state[list] ?? []).filter((p) => !gone.includes(p));
    }
    if (state.status !== 'confirmed' && state.status !== 'recognized') return;
    // 2. Confirmation: counted transfers to pending.
    const counted = now.filter((t) => (state.countedKeys ?? []).includes(t.key));
    const toPend = counted.filter((t) => !(state.postedPending ?? []).some((p) => sameInclusion(p, t)));
    if (toPend.length) {
      await treasury.postConfirmedToPending({ paymentId: state.paymentId, transfers: toPend.map(posted) });
      state.postedPending = [...(state.postedPending ?? []), ...toPend.map(posted)];
    }
    if (state.status !== 'confirmed') return;
    // 3. Recognition.
    const gates = input.recognitionGates ?? DEFAULT_GATES;
    const finality = !gates.includes('finality') || (counted.length > 0 && counted.every((t) => t.depth === 'final'));
    const reconciled = !gates.includes('reconciled') || state.reconciled === true;
    // no_open_exception holds by construction here: a payment with an open exception is in requires_review.
    if (!finality || !reconciled) return;
    const toAvail = counted.filter((t) => !(state.postedAvailable ?? []).some((p) => sameInclusion(p, t)));
    if (toAvail.length) {
      await treasury.postRecognizedToAvailable({ paymentId: state.paymentId, transfers: toAvail.map(posted) });
      state.postedAvailable = [...(state.postedAvailable ?? []), ...toAvail.map(posted)];
    }
    await transition('recognized', 'treasury_gates_passed', 'treasury').catch((e) => log.warn('recognition not applied', { error: String(e) }));
  }

  // The watcher sends the whole view of the deposit address; an older version is stale.
  let chainDirty = false;
  setHandler(paymentChainSignal, (u: PaymentChainUpdate) => {
    if (u.version < (state.chainVersion ?? 0)) return;
    state.chainVersion = u.version;
    state.transfers = u.transfers;
    state.finalReached = allFinal(u.transfers);
    chainDirty = true;
  });
  // How the refund a decision started ended (workflows/payout.ts tells it).
  setHandler(refundEndedSignal, ({ refundId, status, holdReleased }) => {
    if (state.refund?.id !== refundId || state.refund.ended) return;
    state.refund = { ...state.refund, ended: { status, holdReleased } };
    chainDirty = true;
  });

  const toleranceMinor = minorFromString(input.underpayToleranceMinor ?? '0');
  // One loop decides every chain- and timer-driven move; the expiry timer is durable, so a
  // worker restart does not reset it. Updates (cancel, resolve) transition from their handlers.
  for (;;) {
    await queue;
    chainDirty = false;
    const d = decide({
      status: state.status,
      amountMinor: minorFromString(state.amountMinor),
      underpayToleranceMinor: toleranceMinor,
      expiresAtMs: state.expiresAtMs,
      nowMs: Date.now(),
      transfers: state.transfers ?? [],
      countedKeys: state.countedKeys ?? [],
    });
    if (d) {
      const actor = d.cause === 'timer_expired' ? 'system' : `watcher:${input.rail}`;
      // Losing a race to an Update is fine: the table refuses the move and the loop decides again.
      await transition(d.to, d.cause, actor, { exceptionCode: d.exceptionCode, amountReceivedMinor: d.amountReceivedMinor, countedKeys: d.countedKeys })
        .catch((e) => log.warn('move not applied', { to: d.to, error: String(e) }));
      continue;
    }
    // A refund that gave its money back (canceled, or failed with nothing sent) reopens the decision.
    if (refundReleased() && patched(REFUND_OUTCOME_PATCH)) {
      const ended = state.refund!.ended!;
      await transition('requires_review', `refund_${ended.status}`, `payout:${state.refund!.id}`, { exceptionCode: 'refund_failed' })
        .catch((e) => log.warn('refund outcome not applied', { error: String(e) }));
      continue;
    }
    // A second transfer while detected or under review: the payer's page and the merchant see it
    // now, and a decision (accept, refund) acts on all of it.
    if (state.status === 'detected' || state.status === 'requires_review') {
      const seen = minorToString(sumMinor(state.transfers ?? []));
      if (seen !== state.amountReceivedMinor && patched(AMOUNT_RECEIVED_LIVE_PATCH)) {
        await recordAmountReceived({ paymentId: state.paymentId, seq: state.seq, amountReceivedMinor: seen });
        state.amountReceivedMinor = seen;
      }
    }
    // Money after the payment closed with its money settled: an exception, never silently kept.
    const late = FINAL_STATUSES.has(state.status)
      ? lateTransfers({ status: state.status, transfers: state.transfers ?? [], countedKeys: state.countedKeys ?? [], resolvedKeys: state.resolvedKeys, recordedKeys: state.lateKeys ?? [] })
      : [];
    if (late.length && patched(LATE_MONEY_PATCH)) {
      await recordLateTransfers({ paymentId: state.paymentId, rail: input.rail, status: state.status, transfers: late.map((t) => ({ key: t.key, amountMinor: t.amountMinor })) });
      state.lateKeys = [...(state.lateKeys ?? []), ...late.map((t) => t.key)];
    }
    const seqBeforeGates = state.seq;
    // Nothing posted and nothing to post (a payment awaiting money): skip the call and its promise.
    const nothingToPost = !state.postedAvailable?.length && !state.postedPending?.length && state.status !== 'confirmed' && state.status !== 'recognized';
    if (!nothingToPost || !lean()) await runTreasuryGates();
    if (state.seq !== seqBeforeGates) continue;
    const seqBefore = state.seq;
    const woken = () => chainDirty || state.seq !== seqBefore;
    if (FINAL_STATUSES.has(state.status)) {
      // A closed payment keeps listening for late money for a bounded window, then ends.
      // Carried across continue-as-new: a new run inside the window must not restart it.
      state.closedAtMs ??= Date.now();
      const leftMs = state.closedAtMs + input.monitorAfterCloseS * 1000 - Date.now();
      // A refund still running (approvals, the chain) may take longer than the window: wait for its end.
      if (refundRunning() && patched(REFUND_OUTCOME_PATCH)) await condition(woken);
      else if (leftMs <= 0 || !(await condition(woken, leftMs))) break;
    } else {
      state.closedAtMs = undefined;
      const windowLeftMs = state.expiresAtMs - Date.now();
      const waitsForWindow = (state.status === 'awaiting_payment' || state.status === 'detected') && windowLeftMs > 0;
      if (waitsForWindow) await condition(woken, windowLeftMs);
      else await condition(woken);
    }
    if (workflowInfo().continueAsNewSuggested) {
      await queue;
      // An Update still running would be lost with this run (a refund awaiting its row answers first).
      await condition(allHandlersFinished);
      await continueAsNew<typeof paymentWorkflow>({ ...input, carried: state });
    }
  }
  await queue;
  // Nothing more can arrive for this payment: its address may serve another one.
  await releaseDepositAddress(state.paymentId);
  await condition(allHandlersFinished);
  return { ...state };
}
