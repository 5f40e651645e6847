import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// Default import: @temporalio/proto is CommonJS whose named exports Node cannot always detect statically.
import proto from '@temporalio/proto';

/**
 * `STABLERAIL_RECORD_HISTORIES=<dir>` keeps every history this file replays, as binary protobuf
 * named by workflow type: how test/fixtures/histories/<release>/ is made for each release.
 */
function record(workflowType: string, workflowId: string, history: unknown): void {
  const dir = process.env.STABLERAIL_RECORD_HISTORIES;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const bytes = temporal.api.history.v1.History.encode(history as Parameters<typeof temporal.api.history.v1.History.encode>[0]).finish();
  writeFileSync(join(dir, `${workflowType}.${workflowId}.history.bin`), bytes);
}
import { admin, api, eventually, h, newMerchant, asOperator } from './harness.js';
import { allowlist, freshAddress, miner, seedAvailable, USDT, waitPayout } from './payout-helpers.js';
import { chainMerchant, createPayment, mine, pay, waitStatus, watcherCaughtUp } from './chain-helpers.js';
import { TASK_QUEUES, watcherWorkflowId } from '../workflows/shared.js';
import { startReceiver } from './webhook-receiver.js';
import { randomBytes } from 'node:crypto';

const { temporal } = proto;

/** Completed payout, destination and sweep histories from other tests replayed besides this test's own. */
const OTHERS_REPLAYED_MAX = 20;

describe('workflow determinism', () => {
  it('the histories of a recognized payment, its reconciliation run and the running watcher replay without non-determinism', async function () {
    this.timeout(60_000);
    const { stack, bundle } = h();
    await watcherCaughtUp();
    const p = await createPayment('8.00');
    await pay(p.deposit_address, 8_000_000n);
    await mine(2);
    await waitStatus(p.id, 'confirmed');
    // On to recognized: finality, then a reconciliation run that tells the payment.
    await mine(4);
    const m = await chainMerchant();
    const run = await api('POST', '/v1/reconciliation/runs', { key: m.key, body: { grace_s: 0 } });
    assert.equal(run.status, 201, JSON.stringify(run.body));
    await eventually(async () => (await api('GET', `/v1/reconciliation/runs/${run.body.id}`, { key: m.key })).body.status === 'completed', 30_000, 200);
    await waitStatus(p.id, 'recognized', 30_000);
    const recorded: Array<[string, string]> = [[p.id, 'paymentWorkflow'], [watcherWorkflowId('usdt-erc20'), 'watcherWorkflow'], [run.body.id, 'reconciliationWorkflow']];
    for (const [workflowId, type] of recorded) {
      const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      record(type, workflowId, history);
      assert.ok((history.events?.length ?? 0) > 3, workflowId);
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: workflowId }, history);
    }
  });
});

describe('payment workflow determinism: a part payment, a refund called off', () => {
  it('a payment whose amount_received follows a second part payment, and one whose refund was called off then written off, replay with their refund', async function () {
    this.timeout(90_000);
    const { stack, bundle } = h();
    await watcherCaughtUp();
    // A part payment, then another while it is detected: amount_received follows (amount-received-live).
    const split = await createPayment('5.00');
    await pay(split.deposit_address, 3_000_000n);
    await waitStatus(split.id, 'detected');
    await pay(split.deposit_address, 1_000_000n);
    await eventually(async () => (await api('GET', `/v1/payments/${split.id}`, { key: (await chainMerchant()).key })).body.amount_received === '4.00', 20_000, 200);
    // Overpaid, refunded, the refund called off (refund-outcome-to-payment), then written off.
    const over = await createPayment('1.00');
    await pay(over.deposit_address, 2_000_000n);
    await mine(3);
    await waitStatus(over.id, 'requires_review', 20_000);
    const decided = await asOperator('ops-replay')('POST', `/v1/admin/payments/${over.id}/resolve`, { decision: 'refund', reason: 'replay', refund_address: freshAddress() });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    const refundId = decided.body.refund.id as string;
    assert.equal((await asOperator('alice')('POST', `/v1/admin/payouts/${refundId}/cancel`, { reason: 'replay' })).status, 200);
    assert.equal((await waitStatus(over.id, 'requires_review')).exception.code, 'refund_failed');
    assert.equal((await asOperator('ops-replay')('POST', `/v1/admin/payments/${over.id}/resolve`, { decision: 'write_off', reason: 'replay' })).status, 200);
    const recorded: Array<[string, string]> = [[split.id, 'paymentWorkflow'], [over.id, 'paymentWorkflow'], [refundId, 'payoutWorkflow']];
    for (const [workflowId, type] of recorded) {
      const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      record(type, workflowId, history);
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: workflowId }, history);
    }
    const markers = (id: string) => stack.client.workflow.getHandle(id).fetchHistory().then((hist) => (hist.events ?? []).map((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data).filter(Boolean).map((d) => JSON.parse(Buffer.from(d!).toString()).id as string));
    assert.ok((await markers(split.id)).includes('amount-received-live'), 'the split payment took the new path');
    assert.ok((await markers(over.id)).includes('refund-outcome-to-payment'));
    assert.ok((await markers(refundId)).includes('refund-outcome-to-payment'));
  });
});

describe('payout workflow determinism', () => {
  it('a payout, a destination and a sweep of its own, and the other completed ones of this run, replay without non-determinism', async function () {
    this.timeout(90_000);
    const { stack, bundle } = h();
    // One of each type replayed here, made by this test, so it never passes without replaying one.
    const m = await newMerchant({ name: 'Replay payouts' });
    await seedAvailable(m.merchantId, 5n * USDT);
    const dest = freshAddress();
    const destinationId = await allowlist(m.key, dest);
    const po = await api('POST', '/v1/payouts', { key: m.key, body: { amount: '2', rail: 'usdt-erc20', destination: dest, reference: 'replay' } });
    const stop = miner();
    try {
      await asOperator('alice')('POST', `/v1/admin/payouts/${po.body.id}/approve`, { reason: 'replay test' });
      // Confirmed, then settled at finality: the workflow ends there.
      const done = await waitPayout(m.key, po.body.id, ['settled', 'failed']);
      assert.deepEqual([done.status, done.amount], ['settled', '2.00']);
    } finally {
      await stop();
    }
    // A sweep whose minimum no address reaches: planned and run with no items, it completes at once
    // and moves nothing (the sweep tests run full ones; their histories are replayed below when present).
    const plan = await asOperator('ops-replay')('POST', '/v1/admin/sweeps', { rail: 'usdt-trc20', min_amount: '1000000000' });
    assert.equal(plan.status, 201, JSON.stringify(plan.body));
    assert.deepEqual(plan.body.items, []);
    assert.equal((await asOperator('ops-replay')('POST', `/v1/admin/sweeps/${plan.body.id}/execute`)).status, 200);
    const own = { payoutWorkflow: po.body.id as string, payoutDestinationWorkflow: destinationId, sweepWorkflow: plan.body.id as string };
    for (const [type, id] of Object.entries(own)) {
      await eventually(async () => {
        const d = await stack.client.workflow.getHandle(id).describe();
        return d.type === type && d.status.name === 'COMPLETED';
      }, 20_000);
    }
    // And a bounded number of whatever the payout, refund and sweep tests left behind.
    const ids = new Set(Object.values(own));
    for await (const w of stack.client.workflow.list({ query: `WorkflowType IN ('payoutWorkflow', 'payoutDestinationWorkflow', 'sweepWorkflow') AND ExecutionStatus = 'Completed'` })) {
      if (ids.size >= OTHERS_REPLAYED_MAX + 3) break;
      ids.add(w.workflowId);
    }
    for (const workflowId of ids) {
      const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      const type = (await stack.client.workflow.getHandle(workflowId).describe()).type;
      record(type, workflowId, history);
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: workflowId }, history);
    }
  });
});

describe('webhook recovery and scheduled reconciliation determinism', () => {
  it("a recovery's workflow and the lane it fed, and a scheduled run that pruned, replay with their new paths", async function () {
    this.timeout(60_000);
    const { stack, bundle } = h();
    let gone = true;
    const rcv = await startReceiver(() => (gone ? { status: 410 } : { status: 200 }));
    try {
      const m = await newMerchant({ name: 'Replay recovery' });
      const since = new Date(Date.now() - 1000).toISOString();
      const ep = await api('POST', '/v1/webhook_endpoints', { key: m.key, body: { url: rcv.url } });
      assert.equal(ep.status, 201, JSON.stringify(ep.body));
      const p = await api('POST', '/v1/payments', { key: m.key, body: { amount: '1.00', rail: 'usdt-erc20', reference: 'replay-recover' } });
      await eventually(async () => (await api('GET', `/v1/webhook_endpoints/${ep.body.id}`, { key: m.key })).body.status === 'disabled');
      assert.equal((await api('POST', `/v1/payments/${p.body.id}/cancel`, { key: m.key })).status, 200);
      gone = false;
      const rec = await api('POST', `/v1/webhook_endpoints/${ep.body.id}/recover`, { key: m.key, body: { since } });
      assert.equal(rec.body.resent, 2, JSON.stringify(rec.body));
      await eventually(async () => rcv.received.length >= 3, 20_000);
      const lane = `whl_${p.body.id}_${ep.body.id}`;
      await eventually(async () => (await stack.client.workflow.getHandle(lane).describe()).status.name === 'COMPLETED', 20_000);
      // A run as the schedule starts it (trigger schedule), scoped to this merchant.
      const runId = `rec_${randomBytes(12).toString('hex')}`;
      await stack.client.workflow.execute('reconciliationWorkflow', {
        taskQueue: TASK_QUEUES.payments, workflowId: runId,
        args: [{ runId, environment: 'sandbox', merchantId: m.merchantId, trigger: 'schedule', requestedBy: 'schedule', graceS: 0 }],
      });
      const recorded: Array<[string, string]> = [[rec.body.id, 'webhookRecoveryWorkflow'], [lane, 'webhookLaneWorkflow'], [runId, 'reconciliationWorkflow']];
      for (const [workflowId, type] of recorded) {
        const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
        record(type, workflowId, history);
        await Worker.runReplayHistory({ workflowBundle: bundle, replayName: workflowId }, history);
      }
      const runHistory = await stack.client.workflow.getHandle(runId).fetchHistory();
      const patches = (runHistory.events ?? []).map((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data).filter(Boolean).map((d) => JSON.parse(Buffer.from(d!).toString()).id as string);
      assert.ok(patches.includes('prune-scheduled-runs'), 'the scheduled run took the pruning path');
    } finally {
      await rcv.close();
    }
  });
});
