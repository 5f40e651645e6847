// The payment and webhook delivery workflows on Temporal's time-skipping test server with
// recorded (in-memory) activities: no PostgreSQL, dev server or devnet, so these run in the
// fast tier. What the workflows decide is asserted through what they asked the activities to do.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTimeSkipping } from '../time-skipping.js';
import { Worker } from '@temporalio/worker';
import { WithStartWorkflowOperation, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { installWorkerRuntime } from '../../workers/runtime.js';
import { registerSearchAttributes } from '../../temporal-config/search-attributes.js';
import { workflowBundle } from './bundle.js';
import { nextDelayMs } from '../../workflows/rules/retry-schedule.js';
import type { ChainTransferView } from '../../workflows/rules/matching.js';
import {
  cancelPaymentUpdate,
  createPaymentUpdate,
  createUpdateId,
  paymentChainSignal,
  paymentReconciledUpdate,
  paymentStateQuery,
  resolvePaymentUpdate,
  startSearchAttributes,
  type LateTransfersRecord,
  type PaymentCreated,
  type PaymentRecordInput,
  type PaymentView,
  type PaymentWorkflowInput,
  type PaymentWorkflowState,
  type RecordedTransition,
  type TransitionRecord,
} from '../../workflows/shared.js';
import type { AttemptRequest, AttemptResult, DeliveryResult } from '../../workflows/webhook-shared.js';
import type { paymentWorkflow } from '../../workflows/payment.js';
import type { webhookDeliveryWorkflow } from '../../workflows/webhook-delivery.js';

const TASK_QUEUE = 'unit-workflows';
const POLL_TIMEOUT_MS = 10_000;
const POLL_STEP_MS = 50;

interface Posting {
  kind: 'pending' | 'available' | 'reversal';
  paymentId: string;
  keys: string[];
}

/** What the workflows asked of the world, per payment or delivery id. */
class Recorder {
  created: PaymentRecordInput[] = [];
  transitions: TransitionRecord[] = [];
  /** Calls of the separate planning activity: payments plan their deliveries with the event instead. */
  dispatched: Array<{ objectId: string; sequence: number }> = [];
  released: string[] = [];
  /** Late money recorded as chain exceptions (recordLateTransfers calls). */
  late: LateTransfersRecord[] = [];
  /** amount_received recorded between transitions (recordAmountReceived calls). */
  amounts: Array<{ paymentId: string; seq: number; amountReceivedMinor: string }> = [];
  postings: Posting[] = [];
  attempts: AttemptRequest[] = [];
  concluded: string[] = [];
  /** Payment ids whose next recordTransition fails once, as a database outage would. */
  failNextTransition = new Set<string>();
  /** Per delivery id: the answer to attempt n (throwing = the activity failed). */
  replies = new Map<string, (attempt: number) => AttemptResult>();

  of(paymentId: string) {
    return this.transitions.filter((t) => t.paymentId === paymentId);
  }
}

/** The rail the recorded create activity refuses, as the real one refuses a rail no longer configured. */
const UNKNOWN_RAIL = 'usdt-gone';

function recordedActivities(r: Recorder, workflowNowMs: () => Promise<number>) {
  const view = (i: PaymentRecordInput, expiresAtMs: number): PaymentView => ({
    id: i.paymentId, object: 'payment', status: 'awaiting_payment', amount: i.amountMinor, expires_at: new Date(expiresAtMs).toISOString(),
  });
  return {
    async createPaymentRecord(i: PaymentRecordInput): Promise<PaymentCreated> {
      if (i.rail === UNKNOWN_RAIL) throw ApplicationFailure.nonRetryable(`No rail ${i.rail} is configured`, 'rail_unknown');
      r.created.push(i);
      // The window runs on the server's clock, which earlier tests skipped ahead of wall time.
      const expiresAtMs = (await workflowNowMs()) + i.expiresInS * 1000;
      return { view: view(i, expiresAtMs), expiresAtMs, planned: [] };
    },
    async paymentView(paymentId: string): Promise<PaymentView> {
      throw ApplicationFailure.nonRetryable(`payment ${paymentId} has no row`, 'payment_missing');
    },
    async recordTransition(t: TransitionRecord): Promise<RecordedTransition> {
      if (r.failNextTransition.delete(t.paymentId)) throw new Error('database unavailable');
      // Keyed by (payment, seq) as the real activity is: a retry of a recorded step records nothing.
      const inserted = !r.transitions.some((x) => x.paymentId === t.paymentId && x.seq === t.seq);
      if (inserted) r.transitions.push(t);
      return { eventId: `evt_${t.paymentId}_${t.seq}`, eventType: `payment.${t.to}`, planned: [], inserted };
    },
    async releaseDepositAddress(paymentId: string) {
      r.released.push(paymentId);
      return 1;
    },
    async recordAmountReceived(i: { paymentId: string; seq: number; amountReceivedMinor: string }) {
      r.amounts.push(i);
      return true;
    },
    async recordLateTransfers(i: LateTransfersRecord) {
      r.late.push(i);
      return i.transfers.length;
    },
    async planDeliveries(ref: { objectId: string; sequence: number }) {
      r.dispatched.push(ref);
      return [];
    },
    async postConfirmedToPending(i: { paymentId: string; transfers: Array<{ key: string }> }) {
      r.postings.push({ kind: 'pending', paymentId: i.paymentId, keys: i.transfers.map((t) => t.key) });
      return [];
    },
    async postRecognizedToAvailable(i: { paymentId: string; transfers: Array<{ key: string }> }) {
      r.postings.push({ kind: 'available', paymentId: i.paymentId, keys: i.transfers.map((t) => t.key) });
      return [];
    },
    async reverseTransferPostings(i: { paymentId: string; txHash: string; logIndex: number }) {
      r.postings.push({ kind: 'reversal', paymentId: i.paymentId, keys: [`${i.txHash}:${i.logIndex}`] });
      return [];
    },
    async attemptDelivery(req: AttemptRequest): Promise<AttemptResult> {
      r.attempts.push(req);
      const reply = r.replies.get(req.deliveryId);
      if (!reply) throw new Error(`no reply set for ${req.deliveryId}`);
      return reply(req.attempt);
    },
    async concludeDelivery(i: { deliveryId: string }) {
      r.concluded.push(i.deliveryId);
      return { endpointDisabled: true };
    },
  };
}

async function until<T>(fn: () => Promise<T | undefined | null | false>, what: string): Promise<T> {
  const deadline = Date.now() + POLL_TIMEOUT_MS;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${POLL_TIMEOUT_MS} ms`);
    await new Promise((res) => setTimeout(res, POLL_STEP_MS));
  }
}

describe('workflows on the time-skipping server with recorded activities', function () {
  this.timeout(60_000);
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const rec = new Recorder();

  before(async function () {
    this.timeout(120_000);
    // Retries of the failing activity are the point of one test; the SDK's warnings are noise.
    process.env.TEMPORAL_LOG_LEVEL ??= 'ERROR';
    installWorkerRuntime();
    env = await startTimeSkipping();
    // As on every real namespace: payments start with these and upsert their status.
    await registerSearchAttributes(env.connection, env.namespace ?? 'default');
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUE, workflowBundle: await workflowBundle(), activities: recordedActivities(rec, () => env.currentTimeMs()) });
    running = worker.run();
  });

  after(async function () {
    this.timeout(60_000);
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  /** As POST /v1/payments does it: Update-with-Start, the create Update writing the row and answering its view. */
  async function startPayment(windowS: number, amountMinor = '5000000', rail = 'usdt-erc20') {
    const paymentId = `pay_unit_${randomUUID()}`;
    const input: PaymentWorkflowInput = {
      paymentId,
      merchantId: 'mer_unit',
      environment: 'sandbox',
      rail,
      amountMinor,
      monitorAfterCloseS: 3600,
    };
    const start = new WithStartWorkflowOperation<typeof paymentWorkflow>('paymentWorkflow', {
      taskQueue: TASK_QUEUE, workflowId: paymentId, args: [input], workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: startSearchAttributes({ merchantId: 'mer_unit', environment: 'sandbox', rail, status: 'awaiting_payment' }),
    });
    const created = env.client.workflow.executeUpdateWithStart(createPaymentUpdate, {
      args: [{ reference: 'unit', metadata: {}, expiresInS: windowS, actor: 'api_key:unit' }], updateId: createUpdateId(paymentId), startWorkflowOperation: start,
    });
    return { created, handle: await start.workflowHandle() };
  }

  const transfer = (depth: ChainTransferView['depth'], amountMinor = '5000000'): ChainTransferView => ({
    key: '0xabc:0',
    amountMinor,
    blockHeight: 100,
    blockHash: '0xb100',
    depth,
  });

  const failureType = (e: unknown) => (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure ? e.cause.type : undefined);

  it('expires a seven-day payment on its durable timer, records exactly that step, then releases its address after the monitoring window', async () => {
    const started = Date.now();
    const { created, handle } = await startPayment(7 * 24 * 3600);
    const view = await created;
    assert.deepEqual([view.id, view.status, view.amount], [handle.workflowId, 'awaiting_payment', '5000000']);
    assert.deepEqual(rec.created.filter((c) => c.paymentId === handle.workflowId).map((c) => [c.merchantId, c.rail, c.expiresInS, c.actor]), [['mer_unit', 'usdt-erc20', 7 * 24 * 3600, 'api_key:unit']]);
    const result = await handle.result();
    assert.ok(Date.now() - started < 20_000, 'time skipping makes seven days and the monitoring hour fast');
    assert.equal(result.status, 'expired');
    assert.deepEqual(rec.of(handle.workflowId), [
      { paymentId: handle.workflowId, seq: 2, from: 'awaiting_payment', to: 'expired', cause: 'timer_expired', actor: 'system', exceptionCode: null, amountReceivedMinor: '0' },
    ]);
    assert.deepEqual(rec.dispatched.filter((d) => d.objectId === handle.workflowId), [], 'deliveries are planned with each event, by no activity of their own');
    assert.deepEqual(rec.released.filter((id) => id === handle.workflowId), [handle.workflowId]);
  });

  it('a payment with no endpoint to notify is created in one workflow task: one patch marker, no throwaway timer, only its window\'s', async () => {
    const { created, handle } = await startPayment(900);
    await created;
    const { events } = await handle.fetchHistory();
    const EventType = proto.temporal.api.enums.v1.EventType;
    const firstCompleted = events!.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    const nextTask = events!.findIndex((e, i) => i > firstCompleted && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    const firstTask = events!.slice(firstCompleted + 1, nextTask === -1 ? undefined : nextTask);
    const markers = firstTask.filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED).map((e) => {
      const a = e.markerRecordedEventAttributes!;
      const patch = a.details?.['patch-data']?.payloads?.[0]?.data;
      return a.markerName === 'core_patch' && patch ? `patch ${JSON.parse(Buffer.from(patch).toString()).id}` : a.markerName;
    });
    // The three webhook patches are asked only when there is something to deliver (patch payment-lean-waits).
    assert.deepEqual(markers, ['patch payment-lean-waits', 'core_local_activity']);
    const timers = firstTask.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED).map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds));
    assert.deepEqual(timers, [900], 'the payment window is the only timer');
    assert.equal(firstTask.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED).length, 1, 'the create Update completes in that task');
    await handle.terminate('test done');
  });

  it('detected, confirmed, recognized from chain updates: each step recorded with its cause and amount, posted to pending then available; a stale update is ignored', async () => {
    const { created, handle } = await startPayment(3600);
    await created;
    const id = handle.workflowId;
    const state = () => handle.query(paymentStateQuery);
    const at = (status: PaymentWorkflowState['status']) => until(async () => ((await state()).status === status ? state() : null), `status ${status}`);

    await handle.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 1, processedHeight: 100, transfers: [transfer('pending')] });
    await at('detected');
    assert.deepEqual(rec.postings.filter((p) => p.paymentId === id), [], 'detection posts nothing');

    // The confirmation's first recording fails: the activity is retried and the step recorded once.
    rec.failNextTransition.add(id);
    await handle.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 2, processedHeight: 112, transfers: [transfer('confirmed')] });
    const confirmed = await at('confirmed');
    assert.deepEqual(confirmed.countedKeys, ['0xabc:0']);
    assert.equal(rec.failNextTransition.has(id), false, 'the failing recording was attempted');
    await until(async () => rec.postings.some((p) => p.paymentId === id), 'the pending posting');
    assert.deepEqual(rec.postings.filter((p) => p.paymentId === id), [{ kind: 'pending', paymentId: id, keys: ['0xabc:0'] }], 'not recognized before finality and reconciliation');

    // An older view (the transfer not seen yet) arrives late: it must not undo anything.
    await handle.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 1, processedHeight: 100, transfers: [] });
    await handle.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 3, processedHeight: 180, transfers: [transfer('final')] });
    assert.deepEqual(await handle.executeUpdate(paymentReconciledUpdate, { args: [{ runId: 'rec_unit' }] }), { status: 'confirmed' });
    const final = await handle.result();
    assert.equal(final.status, 'recognized');
    assert.equal(final.chainVersion, 3);

    assert.deepEqual(
      rec.of(id).map((t) => [t.seq, t.from, t.to, t.cause, t.actor, t.amountReceivedMinor, t.exceptionCode]),
      [
        [2, 'awaiting_payment', 'detected', 'chain_detected', 'watcher:usdt-erc20', '5000000', null],
        [3, 'detected', 'confirmed', 'chain_confirmed', 'watcher:usdt-erc20', '5000000', null],
        [4, 'confirmed', 'recognized', 'treasury_gates_passed', 'treasury', '5000000', null],
      ],
    );
    assert.deepEqual(rec.postings.filter((p) => p.paymentId === id).map((p) => p.kind), ['pending', 'available']);
    assert.deepEqual(rec.released.filter((x) => x === id), [id]);
  });

  it('an overpayment goes to review with its exception code; accept confirms and later recognizes it, and resolving twice is refused with payment_not_in_review', async () => {
    const { created, handle } = await startPayment(3600);
    await created;
    const id = handle.workflowId;
    await handle.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 1, processedHeight: 112, transfers: [transfer('confirmed', '6000000')] });
    await until(async () => (await handle.query(paymentStateQuery)).status === 'requires_review', 'requires_review');
    // Reconciliation cannot mark a payment under review: the run must not count it as matched.
    await assert.rejects(handle.executeUpdate(paymentReconciledUpdate, { args: [{ runId: 'rec_early' }] }), (e: unknown) => failureType(e) === 'payment_not_confirmed');
    const accepted = await handle.executeUpdate(resolvePaymentUpdate, { args: [{ decision: 'accept', reason: 'customer tipped', operator: 'op_alice' }] });
    assert.equal(accepted.status, 'confirmed');
    await assert.rejects(
      handle.executeUpdate(resolvePaymentUpdate, { args: [{ decision: 'refund', reason: 'again', operator: 'op_alice' }] }),
      (e: unknown) => failureType(e) === 'payment_not_in_review',
    );
    // Ended the ordinary way: a terminated workflow's in-flight activity would hold the server's time-skipping lock.
    await handle.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 2, processedHeight: 180, transfers: [transfer('final', '6000000')] });
    await handle.executeUpdate(paymentReconciledUpdate, { args: [{ runId: 'rec_unit' }] });
    assert.equal((await handle.result()).status, 'recognized');
    assert.deepEqual(
      rec.of(id).map((t) => [t.seq, t.from, t.to, t.cause, t.actor, t.exceptionCode, t.amountReceivedMinor, t.reason ?? null]),
      [
        [2, 'awaiting_payment', 'detected', 'chain_detected', 'watcher:usdt-erc20', null, '6000000', null],
        [3, 'detected', 'requires_review', 'chain_overpaid', 'watcher:usdt-erc20', 'overpaid', '6000000', null],
        [4, 'requires_review', 'confirmed', 'operator_accept', 'op_alice', null, '6000000', 'customer tipped'],
        [5, 'confirmed', 'recognized', 'treasury_gates_passed', 'treasury', null, '6000000', null],
      ],
    );
    assert.deepEqual(
      rec.postings.filter((p) => p.paymentId === id).map((p) => [p.kind, p.keys]),
      [['pending', ['0xabc:0']], ['available', ['0xabc:0']]],
      'the accepted overpayment is posted whole',
    );
  });

  it('money after recognition is recorded once as a late-transfer exception and the payment stays recognized; accept counts a top-up made under review in amount_received', async () => {
    const { created, handle } = await startPayment(3600);
    await created;
    const id = handle.workflowId;
    const state = () => handle.query(paymentStateQuery);
    const extra: ChainTransferView = { key: '0xdef:1', amountMinor: '1000000', blockHeight: 190, blockHash: '0xb190', depth: 'pending' };
    await handle.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 1, processedHeight: 180, transfers: [transfer('final')] });
    await until(async () => (await state()).status === 'confirmed', 'confirmed');
    await handle.executeUpdate(paymentReconciledUpdate, { args: [{ runId: 'rec_unit' }] });
    await until(async () => (await state()).status === 'recognized', 'recognized');
    // Still pending on chain: not yet money anyone can act on.
    await handle.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 2, processedHeight: 190, transfers: [transfer('final'), extra] });
    await until(async () => (await state()).chainVersion === 2, 'version 2 applied');
    assert.deepEqual(rec.late.filter((l) => l.paymentId === id), []);
    await handle.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 3, processedHeight: 200, transfers: [transfer('final'), { ...extra, depth: 'confirmed' }] });
    await until(async () => rec.late.some((l) => l.paymentId === id), 'the late transfer recorded');
    // Finality of the same transfer changes nothing more.
    await handle.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 4, processedHeight: 400, transfers: [transfer('final'), { ...extra, depth: 'final' }] });
    await until(async () => (await state()).chainVersion === 4, 'version 4 applied');
    const final = await handle.result();
    assert.equal(final.status, 'recognized');
    assert.deepEqual(final.lateKeys, ['0xdef:1']);
    assert.deepEqual(rec.late.filter((l) => l.paymentId === id), [{ paymentId: id, rail: 'usdt-erc20', status: 'recognized', transfers: [{ key: '0xdef:1', amountMinor: '1000000' }] }]);
    assert.deepEqual(rec.of(id).map((t) => t.to), ['detected', 'confirmed', 'recognized'], 'no transition for late money');
    assert.deepEqual(rec.postings.filter((p) => p.paymentId === id).map((p) => [p.kind, p.keys]), [['pending', ['0xabc:0']], ['available', ['0xabc:0']]], 'the late money is not posted to the merchant');

    // Under review, a second transfer arrives; accepting counts both, and amount_received says so.
    const second = await startPayment(3600);
    await second.created;
    const h2 = second.handle;
    await h2.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 1, processedHeight: 112, transfers: [transfer('confirmed', '6000000')] });
    await until(async () => (await h2.query(paymentStateQuery)).status === 'requires_review', 'requires_review');
    await h2.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 2, processedHeight: 120, transfers: [transfer('confirmed', '6000000'), { ...extra, depth: 'confirmed' }] });
    await until(async () => (await h2.query(paymentStateQuery)).chainVersion === 2, 'version 2 applied');
    // The payer's page and the merchant see the second transfer at once, before any decision.
    await until(async () => rec.amounts.some((a) => a.paymentId === h2.workflowId), 'amount_received recorded');
    assert.deepEqual(rec.amounts.filter((a) => a.paymentId === h2.workflowId), [{ paymentId: h2.workflowId, seq: 3, amountReceivedMinor: '7000000' }]);
    const accepted = await h2.executeUpdate(resolvePaymentUpdate, { args: [{ decision: 'accept', reason: 'both transfers are the customer\'s', operator: 'op_alice' }] });
    assert.equal(accepted.amountReceivedMinor, '7000000');
    assert.deepEqual(rec.of(h2.workflowId).at(-1) && [rec.of(h2.workflowId).at(-1)!.to, rec.of(h2.workflowId).at(-1)!.amountReceivedMinor], ['confirmed', '7000000']);
    await until(async () => rec.postings.some((p) => p.paymentId === h2.workflowId), 'the pending posting');
    assert.deepEqual(rec.postings.filter((p) => p.paymentId === h2.workflowId).map((p) => p.keys), [['0xabc:0', '0xdef:1']]);
    await h2.signal(paymentChainSignal, { rail: 'usdt-erc20', version: 3, processedHeight: 400, transfers: [transfer('final', '6000000'), { ...extra, depth: 'final' }] });
    await h2.executeUpdate(paymentReconciledUpdate, { args: [{ runId: 'rec_unit' }] });
    assert.equal((await h2.result()).status, 'recognized');
    assert.deepEqual(rec.late.filter((l) => l.paymentId === h2.workflowId), [], 'accepted money is not late');
  });

  it('cancels through an Update; a second cancel and a resolve are refused with their failure codes and record nothing', async () => {
    const { created, handle } = await startPayment(3600);
    await created;
    const id = handle.workflowId;
    const state = await handle.executeUpdate(cancelPaymentUpdate, { args: [{ actor: 'merchant' }] });
    assert.equal(state.status, 'canceled');
    assert.equal(state.seq, 2);
    await assert.rejects(handle.executeUpdate(cancelPaymentUpdate, { args: [{ actor: 'merchant' }] }), (e: unknown) => failureType(e) === 'payment_not_cancelable');
    await assert.rejects(
      handle.executeUpdate(resolvePaymentUpdate, { args: [{ decision: 'accept', reason: 'x', operator: 'op' }] }),
      (e: unknown) => failureType(e) === 'payment_not_in_review',
    );
    await assert.rejects(
      handle.executeUpdate(resolvePaymentUpdate, { args: [{ decision: 'accept', reason: '', operator: 'op' }] }),
      (e: unknown) => failureType(e) === 'parameter_missing',
    );
    const result = await handle.result();
    assert.equal(result.status, 'canceled');
    assert.deepEqual(
      rec.of(id).map((t) => [t.seq, t.from, t.to, t.cause, t.actor]),
      [[2, 'awaiting_payment', 'canceled', 'merchant_cancel', 'merchant']],
    );
  });

  it('a creation the activity refuses fails the create Update with its code and the workflow, recording nothing', async () => {
    const { created, handle } = await startPayment(3600, '5000000', UNKNOWN_RAIL);
    await assert.rejects(created, (e: unknown) => failureType(e) === 'rail_unknown');
    await assert.rejects(handle.result(), (e: unknown) => e instanceof WorkflowFailedError && e.cause instanceof ApplicationFailure && e.cause.type === 'rail_unknown');
    assert.deepEqual(rec.of(handle.workflowId), []);
    assert.deepEqual(rec.released.filter((x) => x === handle.workflowId), [], 'no address was taken');
  });

  async function deliver(reply: (attempt: number) => AttemptResult) {
    const deliveryId = `whd_unit_${randomUUID()}`;
    rec.replies.set(deliveryId, reply);
    const result: DeliveryResult = await env.client.workflow.execute<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: deliveryId,
      args: [{ deliveryId, eventId: 'evt_unit', endpointId: 'we_unit' }],
    });
    return { deliveryId, result, attempts: rec.attempts.filter((a) => a.deliveryId === deliveryId), concluded: rec.concluded.filter((c) => c === deliveryId) };
  }

  const failed = (status: number, retryAfterMs: number | null = null): AttemptResult => ({ outcome: 'failed', responseStatus: status, retryAfterMs, error: null });
  /** Workflow time passes only in timers here; an attempt itself takes well under this. */
  const GAP_SLACK_MS = 2_000;

  it('a delivery failing every attempt sleeps the jittered schedule between its ten attempts, then is concluded once', async () => {
    const { deliveryId, result, attempts, concluded } = await deliver(() => failed(500));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'retries_exhausted');
    assert.deepEqual(result.attempts.map((a) => a.attempt), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    result.attempts.slice(1).forEach((a, i) => {
      const gap = a.atMs - result.attempts[i]!.atMs;
      const want = nextDelayMs(i + 1, attempts[i]!.jitterRand, null)!;
      assert.ok(gap >= want && gap < want + GAP_SLACK_MS, `gap after attempt ${i + 1}: ${gap} ms, the schedule says ${want} ms`);
    });
    assert.deepEqual(concluded, [deliveryId]);
  });

  it('Retry-After replaces the scheduled delay; a failed attempt activity counts as an attempt; a 2xx ends without concluding', async () => {
    const { result, attempts, concluded } = await deliver((n) => {
      if (n === 1) return failed(503, 30_000);
      if (n === 2) throw new Error('worker lost');
      return { outcome: 'delivered', responseStatus: 204, retryAfterMs: null, error: null };
    });
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.attempts.map((a) => [a.attempt, a.outcome, a.responseStatus]), [[1, 'failed', 503], [2, 'activity_failed', null], [3, 'delivered', 204]]);
    assert.equal(attempts.length, 3, 'the attempt activity is never retried behind the schedule');
    const [g1, g2] = result.attempts.slice(1).map((a, i) => a.atMs - result.attempts[i]!.atMs);
    assert.ok(g1! >= 30_000 && g1! < 30_000 + GAP_SLACK_MS, `Retry-After 30 s: ${g1} ms`);
    const want2 = nextDelayMs(2, attempts[1]!.jitterRand, null)!;
    assert.ok(g2! >= want2 && g2! < want2 + GAP_SLACK_MS, `after the failed activity: ${g2} ms, the schedule says ${want2} ms`);
    assert.deepEqual(concluded, []);
  });

  it('a 410 stops at once', async () => {
    const { result, attempts, concluded } = await deliver(() => ({ outcome: 'gone', responseStatus: 410, retryAfterMs: null, error: null }));
    assert.deepEqual([result.status, result.reason, attempts.length, concluded.length], ['failed', 'gone', 1, 0]);
  });
});
