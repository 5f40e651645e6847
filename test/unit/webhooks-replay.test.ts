// A payment workflow recorded by the code before webhook dispatch existed (created, canceled,
// closed; recorded with the foundation commit 4db1e9d's workflows on the real stack) replays
// against today's code: the `webhook-dispatch` patch keeps it deterministic, so payments
// already running when this ships are not broken by the upgrade.
import { readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import protoPkg from '@temporalio/proto';
import { workflowBundle } from './bundle.js';

const { temporal } = protoPkg;

describe('payment workflow histories from before webhooks', () => {
  it('replay without a non-determinism error', async function () {
    this.timeout(60_000);
    const bytes = readFileSync(new URL('../fixtures/payment-before-webhooks.history.bin', import.meta.url));
    const history = temporal.api.history.v1.History.decode(bytes);
    // Throws DeterminismViolationError if the new code issues commands the old history lacks.
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'payment-before-webhooks');
  });
});
