import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { h } from './harness.js';
import { createPayment, mine, pay, waitStatus, watcherCaughtUp } from './chain-helpers.js';
import { watcherWorkflowId } from '../workflows/shared.js';

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
