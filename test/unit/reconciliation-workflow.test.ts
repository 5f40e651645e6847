// The reconciliation workflow on the time-skipping test server with in-memory activities: a
// worker that dies while a class's statement runs holds the run (and the Schedule, which skips
// overlapping runs) only until the heartbeat timeout, not the 10-minute start-to-close timeout.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startTimeSkipping } from '../time-skipping.js';
import { installWorkerRuntime } from '../../workers/runtime.js';
import { workflowBundle } from './bundle.js';
import { heartbeating } from '../../activities/heartbeat.js';
import { BREAK_CLASSES_IN_ORDER, type ReconciliationResult } from '../../workflows/shared.js';

const TASK_QUEUE = 'unit-reconciliation';

describe('reconciliation workflow (time-skipping)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;

  before(async () => {
    installWorkerRuntime();
    env = await startTimeSkipping();
  });
  after(async () => {
    await env?.teardown();
  });

  it('a class whose worker stops heartbeating is tried again after the 30 s heartbeat timeout (real seconds: the test server does not skip an activity\'s timeout), and the run completes', async () => {
    const attempts: Record<string, number> = {};
    // The hung attempt is let go once the run is done, so the worker can shut down.
    let letGo!: () => void;
    const hung = new Promise<void>((r) => (letGo = r));
    const activities = {
      async beginRun() {},
      async detectBreaks(input: { breakClass: string }) {
        attempts[input.breakClass] = (attempts[input.breakClass] ?? 0) + 1;
        // The first attempt of the first class hangs with no heartbeat: its worker "died".
        if (input.breakClass === BREAK_CLASSES_IN_ORDER[0] && attempts[input.breakClass] === 1) await hung;
        return 0;
      },
      async finishRun() {
        return { summary: { breaks: {}, drift_minor: {}, open_breaks: 0, matched_payments: 0 }, matchedPaymentIds: [] };
      },
      async acknowledgeReconciled() {
        return { acknowledged: 0, refused: 0 };
      },
      async pruneScheduledRuns() {
        return { runs: 0, reportRows: 0 };
      },
      async failRun() {},
    };
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUE, workflowBundle: await workflowBundle(), activities });
    const runId = `rec_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    const result = (await worker.runUntil(async () => {
      try {
        return await env.client.workflow.execute('reconciliationWorkflow', { taskQueue: TASK_QUEUE, workflowId: runId, args: [{ runId, environment: 'sandbox', trigger: 'api', requestedBy: 'test', graceS: 0 }] });
      } finally {
        letGo();
      }
    })) as ReconciliationResult;
    assert.equal(result.runId, runId);
    assert.equal(attempts[BREAK_CLASSES_IN_ORDER[0]!], 2, 'the hung attempt was given up and made again');
    for (const c of BREAK_CLASSES_IN_ORDER.slice(1)) assert.equal(attempts[c], 1, c);
    const history = await env.client.workflow.getHandle(runId).fetchHistory();
    // Retries are not history events: the first class's started event carries attempt 2.
    const starts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    assert.equal(starts[1], 2, `attempts of each activity in order: ${starts}`);
    const scheduled = (history.events ?? []).find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'detectBreaks')!;
    assert.equal(Number(scheduled.activityTaskScheduledEventAttributes!.heartbeatTimeout!.seconds), 30);
  });

  it('heartbeating() beats while the work runs and stops when it ends', async () => {
    const beats: unknown[] = [];
    const activity = new MockActivityEnvironment();
    activity.on('heartbeat', (d: unknown) => beats.push(d));
    const out = await activity.run(() => heartbeating(new Promise((r) => setTimeout(() => r('done'), 130)), 40));
    assert.equal(out, 'done');
    assert.ok(beats.length >= 2 && beats.length <= 5, `${beats.length} beats`);
    const after = beats.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(beats.length, after, 'no beat after the work ended');
  });
});
