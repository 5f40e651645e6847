// The payout workflow on Temporal's time-skipping server, against a simulated chain and an
// in-memory ledger that posts with the real posting rules (activities/payout.ts). Covers the
// approve/cancel race with a controlled order of Updates, the stuck-send and finality path,
// and a property test over random lifecycles (approve, cancel, drop, bump, a signer or
// balance outage, reorgs): at every posting the payout's money is in exactly one place
// (hold, in flight, settled, or released) matching its status, and at most one of a payout's
// signed versions is ever mined.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// Default import: @temporalio/proto is CommonJS whose named exports Node cannot always detect statically.
import proto from '@temporalio/proto';
import fc from 'fast-check';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTimeSkipping } from '../time-skipping.js';
import { Worker } from '@temporalio/worker';
import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { installWorkerRuntime } from '../../workers/runtime.js';
import { registerSearchAttributes } from '../../temporal-config/search-attributes.js';
import { workflowBundle } from './bundle.js';
import { payoutConfirmationPostings, payoutSettledPosting, type PayoutRow } from '../../activities/payout.js';
import { accountId, assertBalanced, type Posting } from '../../activities/ledger.js';
import type { RailConfig } from '../../activities/config.js';
import {
  approvePayoutUpdate,
  cancelPayoutUpdate,
  type PayoutTransitionRecord,
  type PayoutView,
  type PayoutWorkflowInput,
  type ReplaceOutcome,
  type SendRequest,
  type TransferOutcomePayload,
  type WatchOutcome,
} from '../../workflows/payout-shared.js';
import type { payoutWorkflow } from '../../workflows/payout.js';

const TASK_QUEUE = 'unit-payouts';

/** What happens on the simulated chain to a payout's send before it is mined. */
type ChainEvent = 'drop' | 'bump' | 'signer_down' | 'balance_short' | 'not_expired';

interface Script {
  events: ChainEvent[];
  reorgs: number;
  /** After a reorg, which of the signed versions (all one nonce) the new chain mines: any one may win. */
  remine?: number[];
}

/** One payout as the simulation sees it: its row, ledger, chain versions and script. */
class SimPayout {
  transitions: PayoutTransitionRecord[] = [];
  postings = new Map<string, Posting>();
  balances = new Map<string, bigint>();
  /** Every signed version of the one send: all at the same nonce, as the real activity signs them. */
  versions: string[] = [];
  mined: string | null = null;
  /** Versions the chain ever showed mined (a reorg can un-mine one). */
  everMined = new Set<string>();
  minedAtOnce = 0;
  signed = 0;
  blockedNext = false;
  /** The next re-check finds nothing to do yet (a TRON transaction before its expiration). */
  waitNext = false;
  watches = 0;
  /** Holds the watch with this number until released, so a test can act between two re-checks. */
  pause: { at: number; open: Promise<void>; release: () => void; reached: boolean } | null = null;
  gate: { to: string; open: Promise<void>; release: () => void; reached: boolean } | null = null;
  approvals: string[] = [];
  violations: string[] = [];
  row: PayoutRow;
  rail: RailConfig;

  constructor(readonly id: string, readonly amount: bigint, public script: Script) {
    // A rail of its own, so rail custody holds only this payout's money.
    this.rail = { id: `sim-${id}`, kind: 'evm', native_asset: 'ETH', asset: 'USDT' } as RailConfig;
    this.row = { id, environment: 'sandbox', merchant_id: `mer_${id}`, kind: 'payout', rail: this.rail.id, asset: 'USDT', amount_minor: amount.toString(), destination_address: '0xdest', payment_id: null } as PayoutRow;
  }

  acct(owner: 'merchant' | 'rail', purpose: string): string {
    return accountId({ environment: 'sandbox', ownerType: owner, ownerId: owner === 'merchant' ? this.row.merchant_id : this.rail.id, purpose: purpose as never, asset: 'USDT' });
  }

  post(p: Posting): void {
    if (this.postings.has(p.cause)) return; // keyed by cause, as the real ledger is
    assertBalanced(p.lines);
    this.postings.set(p.cause, p);
    for (const l of p.lines) {
      const k = accountId(l.account);
      this.balances.set(k, (this.balances.get(k) ?? 0n) + l.amountMinor);
    }
    this.check(`after ${p.cause}`);
  }

  /** Credit-normal balances as positive amounts. */
  get hold() { return -(this.balances.get(this.acct('merchant', 'payout_hold')) ?? 0n); }
  get inFlight() { return -(this.balances.get(this.acct('merchant', 'payout_in_flight')) ?? 0n); }
  get settled() { return -(this.balances.get(this.acct('rail', 'custody')) ?? 0n); }
  /** Given back to available (the hold posting took it out of there). */
  get released() { return this.amount - (this.balances.get(this.acct('merchant', 'available')) ?? 0n); }

  check(when: string): void {
    const parts = [this.hold, this.inFlight, this.settled, this.released];
    if (parts.some((x) => x < 0n)) this.violations.push(`${when}: negative part ${parts}`);
    if (parts.reduce((s, x) => s + x, 0n) !== this.amount) this.violations.push(`${when}: hold+in_flight+settled+released = ${parts} ≠ ${this.amount}`);
    if (parts.filter((x) => x !== 0n).length > 1) this.violations.push(`${when}: money in two places ${parts}`);
    if (this.minedAtOnce > 1) this.violations.push(`${when}: two versions mined`);
  }

  /** Where the money must be for a status the workflow just recorded. */
  expectFor(status: string): void {
    const want: Record<string, () => boolean> = {
      broadcast: () => this.hold === this.amount,
      requires_review: () => this.hold === this.amount,
      confirmed: () => this.inFlight === this.amount,
      settled: () => this.settled === this.amount,
    };
    if (want[status] && !want[status]!()) this.violations.push(`${status}: hold ${this.hold} in flight ${this.inFlight} settled ${this.settled} released ${this.released}`);
  }
}

class Sim {
  payouts = new Map<string, SimPayout>();
  of(id: string): SimPayout {
    const p = this.payouts.get(id);
    if (!p) throw new Error(`no simulated payout ${id}`);
    return p;
  }
}

const sendKeyId = (sendKey: string) => sendKey.split(':')[1]!;

function simActivities(sim: Sim) {
  const outcome = (p: SimPayout, txHash: string): TransferOutcomePayload => ({
    txHash, blockHeight: 100 + p.everMined.size, blockHash: `0xb${p.everMined.size}`, executed: true, feeMinor: '21000', confirmations: 3,
    transfers: [{ logIndex: 0, from: '0xtreasury', to: '0xdest', amountMinor: p.amount.toString() }],
  });
  return {
    async createPayoutRecord(o: { payoutId: string }): Promise<{ view: PayoutView; amountMinor: string; approvalsRequired: number }> {
      const p = sim.of(o.payoutId);
      const hold = p.acct('merchant', 'payout_hold');
      p.post({ cause: `payout:${p.id}/hold`, environment: 'sandbox', gate: 'payout_hold', memo: 'hold', lines: [
        { account: { environment: 'sandbox', ownerType: 'merchant', ownerId: p.row.merchant_id, purpose: 'available', asset: 'USDT' }, amountMinor: p.amount },
        { account: { environment: 'sandbox', ownerType: 'merchant', ownerId: p.row.merchant_id, purpose: 'payout_hold', asset: 'USDT' }, amountMinor: -p.amount },
      ] });
      assert.ok(hold);
      const view = { id: p.id, object: 'payout', status: 'pending_approval', amount: p.amount.toString(), destination: { id: null, address: '0xdest' } } as PayoutView;
      return { view, amountMinor: p.amount.toString(), approvalsRequired: 1 };
    },
    async recordPayoutTransition(t: PayoutTransitionRecord): Promise<{ eventId: string; inserted: boolean }> {
      const p = sim.of(t.payoutId);
      if (p.gate && p.gate.to === t.to) {
        p.gate.reached = true;
        await p.gate.open;
      }
      const inserted = !p.transitions.some((x) => x.seq === t.seq);
      if (inserted) {
        p.transitions.push(t);
        p.expectFor(t.to);
      }
      return { eventId: `evt_${t.payoutId}_${t.seq}`, inserted };
    },
    async recordPayoutApproval(a: { payoutId: string; operator: string }): Promise<{ inserted: boolean; operators: string[] }> {
      const p = sim.of(a.payoutId);
      if (!p.approvals.includes(a.operator)) p.approvals.push(a.operator);
      return { inserted: true, operators: [...p.approvals] };
    },
    async releasePayoutHold(o: { payoutId: string }): Promise<string[]> {
      const p = sim.of(o.payoutId);
      const hold = p.postings.get(`payout:${p.id}/hold`)!;
      p.post({ ...hold, cause: `payout:${p.id}/release`, lines: hold.lines.map((l) => ({ ...l, amountMinor: -l.amountMinor })) });
      return [];
    },
    async planDeliveries() {
      return [];
    },
    async signTransfer(req: SendRequest) {
      const p = sim.of(sendKeyId(req.sendKey));
      p.signed += 1;
      if (!p.versions.length) p.versions.push(`0x${p.id}v0`);
      return { sendKey: req.sendKey, txHash: p.versions[0]!, nonce: 7, from: '0xtreasury' };
    },
    async broadcastTransfer() {},
    async watchTransfer(o: { sendKey: string }): Promise<WatchOutcome> {
      const p = sim.of(sendKeyId(o.sendKey));
      p.watches += 1;
      if (p.pause && p.pause.at === p.watches) {
        p.pause.reached = true;
        await p.pause.open;
      }
      const next = p.script.events.shift();
      if (next) {
        p.blockedNext = next === 'signer_down' || next === 'balance_short';
        p.waitNext = next === 'not_expired';
        return { kind: 'stuck', waitedBlocks: 4 };
      }
      // Nothing in the way: the chain mines one version (the latest; only one nonce, so only one).
      if (!p.mined) {
        const pick = p.everMined.size ? (p.script.remine?.shift() ?? 0) % p.versions.length : p.versions.length - 1;
        p.mined = p.versions[pick]!;
        p.everMined.add(p.mined);
        p.minedAtOnce = 1;
      }
      return { kind: 'mined', outcome: outcome(p, p.mined) };
    },
    async replaceTransfer(req: SendRequest): Promise<ReplaceOutcome> {
      const p = sim.of(sendKeyId(req.sendKey));
      if (p.blockedNext) {
        p.blockedNext = false;
        return { kind: 'blocked', code: 'signer_unavailable', message: 'signer down' };
      }
      if (p.waitNext) {
        p.waitNext = false;
        return { kind: 'waiting', reason: 'not_expired' };
      }
      p.versions.push(`0x${p.id}v${p.versions.length}`);
      return { kind: 'replaced', txHash: p.versions.at(-1)! };
    },
    async awaitFinality(o: { sendKey: string }) {
      const p = sim.of(sendKeyId(o.sendKey));
      if (p.script.reorgs > 0) {
        p.script.reorgs -= 1;
        p.mined = null; // the block is gone: the transfer is no longer on chain
        p.minedAtOnce = 0;
        return { kind: 'reorged' as const };
      }
      return { kind: 'final' as const, outcome: outcome(p, p.mined!) };
    },
    async reopenTransfer() {},
    async confirmPayout(o: { payoutId: string; outcome: TransferOutcomePayload; round: number }) {
      const p = sim.of(o.payoutId);
      const plan = payoutConfirmationPostings(p.row, p.rail, o.outcome, o.round);
      for (const x of plan.postings) p.post(x);
      return { paid: plan.paid, failureCode: plan.failureCode, releaseHold: !o.outcome.executed };
    },
    async settlePayoutFinal(o: { payoutId: string; txHash: string }) {
      const p = sim.of(o.payoutId);
      p.post(payoutSettledPosting(p.row, o.txHash));
    },
    async reopenPayout(o: { payoutId: string; round: number; txHash: string }) {
      const p = sim.of(o.payoutId);
      for (const [cause, x] of [...p.postings]) {
        if (cause === `payout:${p.id}/in_flight/r${o.round}` || (cause.startsWith('network_fee:') && cause.endsWith(o.round ? `/r${o.round}` : o.txHash))) {
          p.post({ ...x, cause: `${cause}/reorged`, lines: x.lines.map((l) => ({ ...l, amountMinor: -l.amountMinor })) });
        }
      }
      return [];
    },
  };
}

describe('the payout workflow on the time-skipping server, against a simulated chain', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const sim = new Sim();

  before(async function () {
    this.timeout(120_000);
    process.env.TEMPORAL_LOG_LEVEL ??= 'ERROR';
    installWorkerRuntime();
    env = await startTimeSkipping();
    await registerSearchAttributes(env.connection, env.namespace ?? 'default');
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUE, workflowBundle: await workflowBundle(), activities: simActivities(sim) });
    running = worker.run();
  });

  after(async function () {
    this.timeout(60_000);
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  async function start(script: Script, amount = 5_000_000n, extra: Partial<PayoutWorkflowInput> = {}) {
    const id = `po_unit_${randomUUID()}`;
    const p = new SimPayout(id, amount, script);
    sim.payouts.set(id, p);
    const input: PayoutWorkflowInput = {
      payoutId: id, merchantId: p.row.merchant_id, environment: 'sandbox', rail: 'usdt-erc20', railKind: 'evm', kind: 'payout',
      create: { kind: 'payout', amountMinor: amount.toString(), destination: { id: null, address: '0xdest' }, reference: 'unit', actor: 'api_key:unit' },
      approvalWindowS: 3600, confirmationsRequired: 3, ...extra,
    };
    const handle = await env.client.workflow.start<typeof payoutWorkflow>('payoutWorkflow', { taskQueue: TASK_QUEUE, workflowId: id, args: [input] });
    await until(async () => p.transitions.length === 0 && p.postings.has(`payout:${id}/hold`), 'the hold');
    return { id, p, handle };
  }

  const gateOn = (p: SimPayout, to: string) => {
    let release!: () => void;
    const open = new Promise<void>((r) => (release = r));
    p.gate = { to, open, release, reached: false };
    return release;
  };
  const failureType = (e: unknown) => (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure ? e.cause.type : undefined);
  const statuses = (p: SimPayout) => p.transitions.map((t) => t.to);

  it('approve and cancel racing: a cancel that arrives while the approval is being recorded wins before signing, and the hold goes back', async () => {
    const { p, handle } = await start({ events: [], reorgs: 0 });
    const release = gateOn(p, 'approved');
    const approving = handle.executeUpdate(approvePayoutUpdate, { args: [{ operator: 'op_alice', reason: 'ok' }] });
    await until(async () => p.gate !== null && (await handle.query('payoutState' as never) as { approvals: string[] }).approvals.length === 1, 'the approval held in its recording');
    // Accepted: its handler runs in the workflow before the approval's recording answers.
    const canceling = await handle.startUpdate(cancelPayoutUpdate, { args: [{ actor: 'op_bob', reason: 'wrong invoice' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    release();
    assert.equal((await approving).status, 'approved');
    assert.equal((await canceling.result()).status, 'canceled');
    const result = await handle.result();
    assert.equal(result.status, 'canceled');
    assert.deepEqual(statuses(p), ['approved', 'canceled']);
    assert.equal(p.signed, 0, 'nothing was signed');
    assert.equal(p.released, p.amount, 'the hold was released');
    assert.deepEqual(p.violations, []);
  });

  it('cancel first, approval arriving while the cancel is recorded: the approval is refused and nothing is signed', async () => {
    const { p, handle } = await start({ events: [], reorgs: 0 });
    const release = gateOn(p, 'canceled');
    const canceling = handle.executeUpdate(cancelPayoutUpdate, { args: [{ actor: 'op_bob', reason: 'not needed' }] });
    await until(async () => p.gate?.reached, 'the cancel being recorded');
    const approving = await handle.startUpdate(approvePayoutUpdate, { args: [{ operator: 'op_alice', reason: 'ok' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    release();
    assert.equal((await canceling).status, 'canceled');
    await assert.rejects(approving.result(), (e: unknown) => failureType(e) === 'payout_not_pending_approval');
    assert.equal((await handle.result()).status, 'canceled');
    assert.deepEqual(statuses(p), ['canceled']);
    assert.deepEqual(p.approvals, [], 'no approval recorded on a canceled payout');
    assert.equal(p.signed, 0);
    assert.equal(p.released, p.amount);
  });

  it('cancel and approval accepted in the same workflow task: the cancel (first) wins, the approval is refused as not pending, not as a state conflict', async () => {
    const { p, handle } = await start({ events: [], reorgs: 0 });
    const release = gateOn(p, 'canceled');
    const canceling = await handle.startUpdate(cancelPayoutUpdate, { args: [{ actor: 'op_bob', reason: 'not needed' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    const approving = await handle.startUpdate(approvePayoutUpdate, { args: [{ operator: 'op_alice', reason: 'ok' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    release();
    assert.equal((await canceling.result()).status, 'canceled');
    await assert.rejects(approving.result(), (e: unknown) => failureType(e) === 'payout_not_pending_approval');
    assert.equal((await handle.result()).status, 'canceled');
    assert.deepEqual(statuses(p), ['canceled']);
    assert.deepEqual(p.approvals, []);
    assert.equal(p.signed, 0);
  });

  it('stuck with the signer down: requires_review holding the funds, then replaced, confirmed, reorged out, confirmed again and settled', async () => {
    const { p, handle } = await start({ events: ['signer_down', 'drop'], reorgs: 1, remine: [1] });
    await handle.executeUpdate(approvePayoutUpdate, { args: [{ operator: 'op_alice', reason: 'ok' }] });
    const result = await handle.result();
    assert.equal(result.status, 'settled');
    assert.deepEqual(statuses(p), ['approved', 'signing', 'broadcast', 'requires_review', 'broadcast', 'confirmed', 'broadcast', 'confirmed', 'settled']);
    assert.equal(p.transitions.find((t) => t.to === 'requires_review')!.failureCode, 'signer_unavailable');
    assert.equal(p.transitions.filter((t) => t.to === 'broadcast').at(-1)!.cause, 'reorged');
    assert.equal(result.txHash, p.versions.at(-1), 'the replacement is the transfer');
    assert.equal(p.settled, p.amount);
    assert.deepEqual(p.violations, []);
  });

  it('stuck through a hundred re-checks (days on a real rail): it continues-as-new with its state, Updates still answer in the new run, and it settles once', async () => {
    // Days of stuck windows: signer down (requires_review) for many re-checks, then a TRON-like
    // wait for the expiration, then a replacement that is mined. A small history bound makes the
    // runs short; the real bound is PAYOUT_HISTORY_EVENTS_MAX or the server's suggestion.
    const CHECKS_DOWN = 60;
    const CHECKS_WAITING = 40;
    const events: ChainEvent[] = [...Array<ChainEvent>(CHECKS_DOWN).fill('signer_down'), ...Array<ChainEvent>(CHECKS_WAITING).fill('not_expired'), 'drop'];
    const { id, p, handle } = await start({ events, reorgs: 1, remine: [0] }, 7_000_000n, { historyEventsMax: 120 });
    const firstRunId = handle.firstExecutionRunId;
    // Held at a re-check well past the first continue-as-new (each re-check adds about a dozen events).
    let release!: () => void;
    p.pause = { at: 40, open: new Promise<void>((r) => (release = r)), release: () => release(), reached: false };
    await handle.executeUpdate(approvePayoutUpdate, { args: [{ operator: 'op_alice', reason: 'ok' }] });
    await until(async () => p.pause?.reached, 'the 40th re-check');

    // A later run holds the payout now, with the state the first one had.
    const latest = env.client.workflow.getHandle<typeof payoutWorkflow>(id);
    const desc = await latest.describe();
    assert.notEqual(desc.runId, firstRunId, 'continued as new');
    const state = (await latest.query('payoutState' as never)) as { status: string; approvals: string[]; txHash: string; nonce: number; failureCode: string; seq: number };
    assert.equal(state.status, 'requires_review');
    assert.equal(state.failureCode, 'signer_unavailable');
    assert.deepEqual(state.approvals, ['op_alice']);
    assert.equal(state.txHash, p.versions[0]);
    assert.equal(state.nonce, 7);
    assert.equal(state.seq, 1 + p.transitions.length, 'every transition counted once across runs');
    // Updates reach the new run and answer from the carried state.
    await assert.rejects(latest.executeUpdate(cancelPayoutUpdate, { args: [{ actor: 'op_bob', reason: 'too late' }] }), (e: unknown) => failureType(e) === 'payout_not_cancelable');
    await assert.rejects(latest.executeUpdate(approvePayoutUpdate, { args: [{ operator: 'op_carol', reason: 'ok' }] }), (e: unknown) => failureType(e) === 'payout_not_pending_approval');
    assert.deepEqual(p.approvals, ['op_alice'], 'a refused approval records nothing');
    p.pause.release();

    const result = await handle.result();
    assert.equal(result.status, 'settled');
    assert.deepEqual(statuses(p), ['approved', 'signing', 'broadcast', 'requires_review', 'broadcast', 'confirmed', 'broadcast', 'confirmed', 'settled']);
    assert.deepEqual(p.transitions.map((t) => t.seq), p.transitions.map((_, i) => i + 2), 'seq 2.. without a gap or a repeat');
    assert.equal(p.signed, 1, 'signed once; every later version is a replacement');
    assert.equal(result.txHash, p.mined);
    assert.equal(p.settled, p.amount, 'settled once');
    // The reorg round carried across runs keys the re-confirmation: one in-flight posting per round, the first reversed.
    assert.ok(p.postings.has(`payout:${id}/in_flight/r0/reorged`) && p.postings.has(`payout:${id}/in_flight/r1`));
    assert.deepEqual(p.violations, []);

    // Walk the runs: each but the last ended in continue-as-new, and each replays deterministically.
    let runId: string | undefined = firstRunId;
    let runs = 0;
    while (runId) {
      const history = await env.client.workflow.getHandle(id, runId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), replayName: `${id}/${runId}` }, history);
      runs += 1;
      // The first run (ends in continue-as-new) and the second (starts from carried state) are
      // what a later change must still replay: kept as fixtures when asked (test/fixtures/histories).
      if (runs <= 2) recordHistory(`payoutWorkflow.${id}.run${runs}`, history);
      runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      assert.ok(runs < 100, 'a bounded chain of runs');
    }
    assert.ok(runs >= 4, `${runs} runs for ${CHECKS_DOWN + CHECKS_WAITING} re-checks`);
  });

  it('property: over random lifecycles the money is always in exactly one place matching the status, and is paid out once whichever version wins after a reorg', async () => {
    const event = fc.constantFrom<ChainEvent>('drop', 'bump', 'signer_down', 'balance_short');
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          decision: fc.constantFrom('approve', 'cancel', 'approve_cancel_race'),
          events: fc.array(event, { maxLength: 4 }),
          reorgs: fc.integer({ min: 0, max: 2 }),
          remine: fc.array(fc.nat({ max: 5 }), { minLength: 2, maxLength: 2 }),
          amount: fc.bigInt({ min: 1n, max: 10n ** 12n }),
        }),
        async (c) => {
          const { p, handle } = await start({ events: [...c.events], reorgs: c.reorgs, remine: [...c.remine] }, c.amount);
          if (c.decision === 'cancel') {
            await handle.executeUpdate(cancelPayoutUpdate, { args: [{ actor: 'op_bob', reason: 'no' }] });
          } else if (c.decision === 'approve') {
            await handle.executeUpdate(approvePayoutUpdate, { args: [{ operator: 'op_alice', reason: 'ok' }] });
          } else {
            const release = gateOn(p, 'approved');
            const a = handle.executeUpdate(approvePayoutUpdate, { args: [{ operator: 'op_alice', reason: 'ok' }] });
            await until(async () => ((await handle.query('payoutState' as never)) as { approvals: string[] }).approvals.length === 1, 'approval held');
            const x = await handle.startUpdate(cancelPayoutUpdate, { args: [{ actor: 'op_bob', reason: 'race' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
            release();
            await a;
            assert.equal((await x.result()).status, 'canceled', 'an accepted cancel wins before signing');
          }
          const result = await handle.result();
          p.check('at the end');
          assert.deepEqual(p.violations, [], JSON.stringify(c, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
          if (result.status === 'settled') {
            assert.equal(p.settled, p.amount, 'settled once, not once per version or round');
            assert.equal(result.txHash, p.mined, 'the payout names the version the chain kept');
            // Network fees: exactly the kept version's fee survives, every reorged round's is reversed.
            const feeNet = [...p.postings.values()].filter((x) => x.cause.startsWith('network_fee:')).reduce((s, x) => s + x.lines.find((l) => l.account.purpose === 'network_fees')!.amountMinor, 0n);
            assert.equal(feeNet, 21000n);
          } else {
            assert.equal(result.status, 'canceled');
            assert.equal(p.released, p.amount);
            assert.equal(p.signed, 0);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

/** `STABLERAIL_RECORD_HISTORIES=<dir>` keeps a history as binary protobuf, as test/workflow-replay.test.ts does. */
function recordHistory(name: string, history: unknown): void {
  const dir = process.env.STABLERAIL_RECORD_HISTORIES;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const { History } = proto.temporal.api.history.v1;
  writeFileSync(join(dir, `${name}.history.bin`), History.encode(history as Parameters<typeof History.encode>[0]).finish());
}

async function until<T>(fn: () => Promise<T | undefined | null | false>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within 10 s`);
    await new Promise((res) => setTimeout(res, 25));
  }
}
