// One reconciliation run: a class at a time (progress is visible in PostgreSQL and in the
// history), then the matched payments are told so their recognition gate can pass. Started by
// a Temporal Schedule, by POST /v1/reconciliation/runs and by `stablerail reconcile`.
import { condition, getExternalWorkflowHandle, patched, proxyActivities, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { ReconciliationActivities } from '../activities/reconciliation.js';
import { BREAK_CLASSES_IN_ORDER, paymentReconciledSignal, reconciliationStartedUpdate, type ReconciliationInput, type ReconciliationResult } from './shared.js';

const acts = proxyActivities<ReconciliationActivities>({
  // A class over a million payments is one set-based statement: give it room.
  startToCloseTimeout: '10 minutes',
  // Its activities heartbeat every 5 s while their statement runs: a run whose worker died is
  // retried elsewhere after this, not after 10 minutes with the Schedule skipping every run.
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

export const SIGNAL_BATCH = 100;
export const RECONCILED_BY_UPDATE_PATCH = 'reconciled-by-update';
/** Scheduled runs prune the scheduled runs past their retention (one more activity at the end). */
export const PRUNE_SCHEDULED_RUNS_PATCH = 'prune-scheduled-runs';

const acks = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '10 minutes',
  // Heartbeats per batch: a dead worker's acknowledgements move on within a minute.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

export async function reconciliationWorkflow(input: ReconciliationInput): Promise<ReconciliationResult> {
  // Scheduled runs get their id here; uuid4 is Temporal's deterministic one.
  const runId = input.runId ?? `rec_${uuid4().replace(/-/g, '').slice(0, 24)}`;
  const scope = { runId, environment: input.environment, merchantId: input.merchantId ?? null, graceS: input.graceS ?? 30 };
  // The API's answer waits for the run's row, written here (the API writes none); the handler
  // only waits, so it adds no command to the history.
  let begun = false;
  setHandler(reconciliationStartedUpdate, async () => {
    await condition(() => begun);
    return { runId };
  });
  const trigger = input.trigger ?? (workflowInfo().searchAttributes?.TemporalScheduledById ? 'schedule' : 'api');
  await acts.beginRun({ ...scope, trigger, requestedBy: input.requestedBy ?? 'schedule' });
  begun = true;
  try {
    for (let i = 0; i < BREAK_CLASSES_IN_ORDER.length; i++) {
      await acts.detectBreaks({ ...scope, breakClass: BREAK_CLASSES_IN_ORDER[i]!, index: i });
    }
    const { summary, matchedPaymentIds } = await acts.finishRun(scope);
    if (patched(RECONCILED_BY_UPDATE_PATCH)) {
      // Each matched payment acknowledges by Update; only those are marked reconciled.
      const ack = await acks.acknowledgeReconciled({ runId, paymentIds: matchedPaymentIds });
      // Housekeeping belongs to the schedule's runs, so a merchant's or operator's run answers as fast as before.
      if (trigger === 'schedule' && patched(PRUNE_SCHEDULED_RUNS_PATCH)) await acks.pruneScheduledRuns({ runId, environment: input.environment });
      return { runId, openBreaks: summary.open_breaks, matchedPayments: ack.acknowledged };
    }
    // Runs recorded before the Update: signals, as they were sent then.
    for (let i = 0; i < matchedPaymentIds.length; i += SIGNAL_BATCH) {
      await Promise.all(
        matchedPaymentIds.slice(i, i + SIGNAL_BATCH).map((id) => getExternalWorkflowHandle(id).signal(paymentReconciledSignal, { runId }).catch(() => undefined)),
      );
    }
    return { runId, openBreaks: summary.open_breaks, matchedPayments: summary.matched_payments };
  } catch (err) {
    await acts.failRun({ runId, error: String(err) });
    throw err;
  }
}
