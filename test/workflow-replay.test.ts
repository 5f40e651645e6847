import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import protoPkg from '@temporalio/proto';
import { admin, api, eventually, h, newMerchant } from './harness.js';
import { allowlist, freshAddress, miner, seedAvailable, USDT, waitPayout } from './payout-helpers.js';
import { createPayment, mine, pay, waitStatus, watcherCaughtUp } from './chain-helpers.js';
import { watcherWorkflowId } from '../workflows/shared.js';

const { temporal } = protoPkg;

describe('workflow determinism', () => {
  it('the histories of a chain-confirmed payment and of the running watcher replay without non-determinism', async function () {
    this.timeout(60_000);
    const { stack, bundle } = h();
    await watcherCaughtUp();
    const p = await createPayment('8.00');
    await pay(p.deposit_address, 8_000_000n);
    await mine(2);
    await waitStatus(p.id, 'confirmed');
    for (const workflowId of [p.id, watcherWorkflowId('usdt-erc20')]) {
      const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      assert.ok((history.events?.length ?? 0) > 3, workflowId);
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: workflowId }, history);
    }
  });
});

describe('payout workflow determinism', () => {
  it('every completed payout, destination and sweep history of this run replays without non-determinism', async function () {
    this.timeout(60_000);
    const { stack, bundle } = h();
    // One payout of its own, confirmed here, so the test never passes on an empty list.
    const m = await newMerchant({ name: 'Replay payouts' });
    await seedAvailable(m.merchantId, 5n * USDT);
    const dest = freshAddress();
    await allowlist(m.key, dest);
    const po = await api('POST', '/v1/payouts', { key: m.key, body: { amount: '2', rail: 'usdt-erc20', destination: dest, reference: 'replay' } });
    const stop = miner();
    try {
      await admin('POST', `/v1/admin/payouts/${po.body.id}/approve`, { operator: 'alice', reason: 'replay test' });
      assert.equal((await waitPayout(m.key, po.body.id, ['confirmed', 'failed'])).status, 'confirmed');
    } finally {
      await stop();
    }
    await eventually(async () => (await stack.client.workflow.getHandle(po.body.id).describe()).status.name === 'COMPLETED', 10_000);
    // And whatever the payout, refund and sweep tests left behind.
    const ids: string[] = [];
    for await (const w of stack.client.workflow.list({ query: `WorkflowType IN ('payoutWorkflow', 'payoutDestinationWorkflow', 'sweepWorkflow') AND ExecutionStatus = 'Completed'` })) {
      ids.push(w.workflowId);
      if (ids.length >= 20) break;
    }
    assert.ok(ids.includes(po.body.id) || ids.length >= 20, 'the payout confirmed here is among the replayed');
    for (const workflowId of ids) {
      const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: workflowId }, history);
    }
  });
});

describe('payout histories from before creation moved into the workflows', () => {
  // Recorded on the real stack with commit 886d703's code, when the API wrote the payout,
  // refund and destination rows and then started their workflows (a payout approved and
  // confirmed; a destination approved and active; a payment resolved with `refund`, its refund
  // canceled). Workflows running when this ships must replay: the new create step follows
  // only from the `create` input, and the refund child only behind patched('refund-child-workflow').
  for (const name of ['payout-before-create-step', 'destination-before-create-step', 'payment-refund-before-child', 'refund-before-create-step']) {
    it(`${name} replays without non-determinism`, async () => {
      const history = temporal.api.history.v1.History.decode(readFileSync(new URL(`./fixtures/${name}.history.bin`, import.meta.url)));
      await Worker.runReplayHistory({ workflowBundle: h().bundle }, history, name);
    });
  }
});
