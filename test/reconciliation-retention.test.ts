// Retention of reconciliation runs: the schedule's runs and their reports go after
// reconciliation_retention_days, a batch at a time with evidence; runs someone asked for stay.
import assert from 'node:assert/strict';
import { h, newMerchant } from './harness.js';
import { createReconciliationActivities, newRunId } from '../activities/reconciliation.js';
import { insertRun } from '../activities/repositories/reconciliation.js';
import { TASK_QUEUES } from '../workflows/shared.js';

const DAY_MS = 86_400_000;

/** A finished run in live, started `ageDays` ago, with `reportRows` rows of its report. */
async function oldRun(trigger: string, ageDays: number, reportRows: number): Promise<string> {
  const { pool } = h().stack;
  const runId = newRunId();
  assert.ok(await insertRun(pool, { runId, environment: 'live', merchantId: null, trigger, requestedBy: trigger, progress: {} }));
  await pool.query(`UPDATE reconciliation_runs SET status = 'completed', started_at = $2, finished_at = $2 WHERE id = $1`, [runId, new Date(Date.now() - ageDays * DAY_MS)]);
  for (let i = 0; i < reportRows; i++) {
    await pool.query(`INSERT INTO reconciliation_run_breaks (run_id, break_id, expected_minor, actual_minor, drift_minor) VALUES ($1, $2, 0, 1, 1)`, [runId, `brk_retention_${runId}_${i}`]);
  }
  return runId;
}

const exists = async (runId: string) => (await h().stack.pool.query(`SELECT 1 FROM reconciliation_runs WHERE id = $1`, [runId])).rowCount === 1;
const reportRowsOf = async (runId: string) => Number((await h().stack.pool.query(`SELECT count(*) FROM reconciliation_run_breaks WHERE run_id = $1`, [runId])).rows[0].count);

describe('reconciliation retention', () => {
  it('scheduled runs past reconciliation_retention_days go with their reports, each batch as evidence; requested and recent runs stay', async function () {
    this.timeout(30_000);
    const acts = createReconciliationActivities({ pool: h().stack.pool, config: { ...h().config, reconciliation_retention_days: 30 } });
    // Only a day past the cutoff starts a prune: one at 30.5 days waits.
    const waiting = await oldRun('schedule', 30.5, 1);
    assert.deepEqual(await acts.pruneScheduledRuns({ runId: 'rec_retention_test_0000000', environment: 'live' }), { runs: 0, reportRows: 0 });
    assert.ok(await exists(waiting));

    const old = await oldRun('schedule', 40, 2);
    const asked = await oldRun('api', 40, 1);
    const recent = await oldRun('schedule', 1, 1);
    const pruned = await acts.pruneScheduledRuns({ runId: 'rec_retention_test_0000001', environment: 'live' });
    assert.deepEqual(pruned, { runs: 2, reportRows: 3 }, 'every scheduled run past the cutoff, not only the one a day past it');
    assert.equal(await exists(old), false);
    assert.equal(await exists(waiting), false);
    assert.equal(await reportRowsOf(old), 0);
    assert.ok(await exists(asked), 'a run someone asked for is kept');
    assert.equal(await reportRowsOf(asked), 1);
    assert.ok(await exists(recent));
    const ev = await h().stack.pool.query(`SELECT subject, actor, payload FROM evidence WHERE kind = 'reconciliation.runs_pruned' AND actor = 'reconciliation:rec_retention_test_0000001'`);
    assert.equal(ev.rows.length, 1);
    assert.deepEqual([ev.rows[0].subject, ev.rows[0].payload.runs, ev.rows[0].payload.report_rows, ev.rows[0].payload.retention_days], ['reconciliation:live', 2, 3, 30]);
    // Nothing left to prune: nothing happens, no evidence.
    assert.deepEqual(await acts.pruneScheduledRuns({ runId: 'rec_retention_test_0000002', environment: 'live' }), { runs: 0, reportRows: 0 });
    // 0 keeps everything.
    const keep = createReconciliationActivities({ pool: h().stack.pool, config: { ...h().config, reconciliation_retention_days: 0 } });
    const kept = await oldRun('schedule', 400, 1);
    assert.deepEqual(await keep.pruneScheduledRuns({ runId: 'rec_retention_test_0000003', environment: 'live' }), { runs: 0, reportRows: 0 });
    assert.ok(await exists(kept));
  });

  it("a scheduled run's workflow prunes at its end; a requested run's does not", async function () {
    this.timeout(60_000);
    const m = await newMerchant();
    const activitiesOf = async (trigger: string) => {
      const runId = newRunId();
      await h().stack.client.workflow.execute('reconciliationWorkflow', {
        taskQueue: TASK_QUEUES.payments, workflowId: runId,
        args: [{ runId, environment: 'live', merchantId: m.merchantId, trigger, requestedBy: `test:${trigger}`, graceS: 0 }],
      });
      const hist = await h().stack.client.workflow.getHandle(runId).fetchHistory();
      return (hist.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    };
    assert.equal((await activitiesOf('schedule')).at(-1), 'pruneScheduledRuns');
    assert.ok(!(await activitiesOf('api')).includes('pruneScheduledRuns'));
  });
});
