// Three-plane reconciliation in bulk SQL: one statement per break class matches commerce
// (orders), provider (chain transfers and payments) and finance (ledger) truth and upserts
// what disagrees by fingerprint (prisma/sql/reconciliation*.sql, run by repositories/reconciliation.ts).
// A break keeps its id across runs; a resolved one never comes back; one whose cause went away is
// cleared; a new one appears once.
import { Context } from '@temporalio/activity';
import { paymentReconciledUpdate } from '../workflows/shared.js';
import type { Pool } from './db.js';
import { withPrismaTx, withTx } from './db.js';
import * as repo from './repositories/reconciliation.js';
import type { BreakRow, RunRow } from './repositories/reconciliation.js';
import { decimalsOfAsset, type StablerailConfig } from './config.js';
import { appendEvidence } from './evidence.js';
import { heartbeating, heartbeatIfActivity } from './heartbeat.js';
import { newId } from './ids.js';
import { toCsv } from './ledger.js';
import { formatAmount } from '../workflows/rules/money.js';
import { BREAK_CLASSES_IN_ORDER } from '../workflows/shared.js';

export const BREAK_CLASSES = BREAK_CLASSES_IN_ORDER;
export type BreakClass = (typeof BREAK_CLASSES)[number];

/** Work in flight (a confirmation whose posting activity is running) is not a break yet. */
export const SETTLE_GRACE_S_DEFAULT = 30;
/** Matched payments signalled per run; the rest are picked up by the next run. */
export const RECONCILED_SIGNALS_PER_RUN_MAX = 5_000;
/** Updates in flight at once while acknowledging a run's matched payments. */
export const ACKNOWLEDGE_CONCURRENCY = 16;

export interface RunScope {
  runId: string;
  environment: 'sandbox' | 'live';
  merchantId: string | null;
  graceS: number;
}

export type RunSummary = {
  breaks: Record<string, number>;
  /** Per asset, per class: the sum of actual minus expected, in minor units. */
  drift_minor: Record<string, Record<string, string>>;
  open_breaks: number;
  matched_payments: number;
};

const DAY_MS = 86_400_000;
/**
 * A run's activities heartbeat this often while their statement runs; the workflow's heartbeat
 * timeout (30 s) is a few of these, so a run whose worker died moves
 * to another worker within seconds, instead of holding the Schedule (overlap: skip) for the
 * 10-minute start-to-close timeout.
 */
export const RUN_HEARTBEAT_INTERVAL_MS = 5_000;
/** Runs per retention batch: with up to a few hundred breaks each, one transaction of at most ~100,000 rows. */
export const PRUNE_BATCH_RUNS = 200;

export function createReconciliationActivities(deps: { pool: Pool; config: StablerailConfig }) {
  const { pool, config } = deps;
  const railsOf = (env: string) => config.rails.filter((r) => r.environments.includes(env as 'sandbox' | 'live'));
  const progressOf = (done: number, last?: BreakClass) => ({ classes_done: done, classes_total: BREAK_CLASSES.length, ...(last ? { last_class: last } : {}) });

  return {
    /**
     * The run's row, `running`. The API writes it before starting the workflow (so a GET right
     * after the POST finds it) and the workflow's first activity writes it again for scheduled runs: once.
     */
    async beginRun(input: RunScope & { trigger: string; requestedBy: string }): Promise<void> {
      if (input.trigger !== 'operator') {
        await repo.insertRun(pool, { ...input, progress: progressOf(0) });
        return;
      }
      // An operator's run is an operator action: its row and its evidence entry, once.
      await withPrismaTx(pool, async (tx) => {
        if (!(await repo.insertRun(tx, { ...input, progress: progressOf(0) }))) return;
        await appendEvidence(tx, {
          kind: 'reconciliation.run_requested',
          subject: input.runId,
          actor: input.requestedBy,
          payload: { environment: input.environment, merchant_id: input.merchantId, grace_s: input.graceS },
          dedupeKey: `reconciliation_run:${input.runId}`,
        });
      });
    },

    /** One class, one statement (prisma/sql/reconciliationDetect.sql): the new and still-present breaks of this class, stamped with this run. */
    async detectBreaks(input: RunScope & { breakClass: BreakClass; index: number }): Promise<number> {
      return heartbeating(repo.detectClass(pool, input, input.breakClass, railsOf(input.environment), progressOf(input.index + 1, input.breakClass)), RUN_HEARTBEAT_INTERVAL_MS);
    },

    /**
     * Clear what this run no longer sees, total the breaks, and mark the run completed. Returns
     * the confirmed payments with no open break: candidates only, a payment counts as reconciled
     * once its workflow acknowledged it (acknowledgeReconciled), so the view never claims a gate
     * the workflow did not see.
     */
    async finishRun(input: RunScope): Promise<{ summary: RunSummary; matchedPaymentIds: string[] }> {
      const { summary, matchedIds } = await heartbeating(repo.completeRun(pool, input, RECONCILED_SIGNALS_PER_RUN_MAX, (totals, matched) => {
        const summary: RunSummary = { breaks: Object.fromEntries(BREAK_CLASSES.map((k) => [k, 0])), drift_minor: {}, open_breaks: 0, matched_payments: matched.length };
        for (const t of totals) {
          const n = t.breaks ?? 0;
          summary.breaks[t.class] = (summary.breaks[t.class] ?? 0) + n;
          summary.open_breaks += n;
          (summary.drift_minor[t.asset] ??= {})[t.class] = t.drift_minor ?? '0';
        }
        return summary;
      }), RUN_HEARTBEAT_INTERVAL_MS);
      return { summary, matchedPaymentIds: matchedIds };
    },

    /**
     * Tell each matched payment's workflow through the `acknowledgeReconciled` Update and mark
     * reconciled only those that accepted it. A refusal (the payment left `confirmed`) or an
     * unreachable workflow leaves the payment for the next run; nothing is swallowed silently.
     */
    async acknowledgeReconciled(input: { runId: string; paymentIds: string[] }): Promise<{ acknowledged: number; refused: number }> {
      const ctx = Context.current();
      const acknowledged: string[] = [];
      let refused = 0;
      for (let i = 0; i < input.paymentIds.length; i += ACKNOWLEDGE_CONCURRENCY) {
        const batch = input.paymentIds.slice(i, i + ACKNOWLEDGE_CONCURRENCY);
        await Promise.all(
          batch.map(async (id) => {
            try {
              await ctx.client.workflow.getHandle(id).executeUpdate(paymentReconciledUpdate, { args: [{ runId: input.runId }], updateId: `reconciled-${input.runId}` });
              acknowledged.push(id);
            } catch (err) {
              refused += 1;
              ctx.log.warn('payment did not acknowledge reconciliation', { paymentId: id, runId: input.runId, error: String(err) });
            }
          }),
        );
        ctx.heartbeat({ done: i + batch.length });
      }
      await repo.markReconciled(pool, input.runId, acknowledged, refused);
      return { acknowledged: acknowledged.length, refused };
    },

    /**
     * Retention, run by scheduled runs: scheduled runs (and their reports) that started more than
     * reconciliation_retention_days ago are deleted, in batches of PRUNE_BATCH_RUNS, each batch
     * with an evidence entry saying what went and why. It waits until the oldest is a day past
     * the cutoff, so it prunes about once a day, not a run every minute.
     */
    async pruneScheduledRuns(input: { runId: string; environment: string }): Promise<{ runs: number; reportRows: number }> {
      const days = config.reconciliation_retention_days;
      const done = { runs: 0, reportRows: 0 };
      if (days === 0) return done;
      const before = new Date(Date.now() - days * DAY_MS);
      const oldest = await repo.oldestScheduledRunAt(pool, input.environment);
      if (!oldest || oldest.getTime() > before.getTime() - DAY_MS) return done;
      for (;;) {
        const batch = await withPrismaTx(pool, async (tx) => {
          const b = await repo.pruneScheduledRuns(tx, input.environment, before, PRUNE_BATCH_RUNS);
          if (b.runs === 0) return b;
          await appendEvidence(tx, {
            kind: 'reconciliation.runs_pruned',
            subject: `reconciliation:${input.environment}`,
            actor: `reconciliation:${input.runId}`,
            payload: { environment: input.environment, retention_days: days, started_before: before.toISOString(), runs: b.runs, report_rows: b.reportRows, newest_started_at: b.newestStartedAt?.toISOString() ?? null },
            dedupeKey: `reconciliation_prune:${b.firstId}`,
          });
          return b;
        });
        done.runs += batch.runs;
        done.reportRows += batch.reportRows;
        heartbeatIfActivity({ runs: done.runs });
        if (batch.runs < PRUNE_BATCH_RUNS) return done;
      }
    },

    async failRun(input: { runId: string; error: string }): Promise<void> {
      await repo.failRun(pool, input.runId, input.error);
    },
  };
}

export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;

/** The run's progress as detectBreaks writes it (a JSON column). */
export type RunProgress = { classes_done: number; classes_total: number; last_class?: BreakClass };
export const runProgress = (run: RunRow): Partial<RunProgress> => (run.progress ?? {}) as Partial<RunProgress>;
/** The run's summary as finishRun, acknowledgeReconciled or failRun wrote it (a JSON column). */
type StoredSummary = Partial<RunSummary> & { unacknowledged_payments?: number; error?: string };

/** Amount columns are NOT NULL numerics; read as ::text (never a float), TypedSQL calls them nullable. */
const minorOf = (v: string | null): bigint => BigInt(v ?? 'NaN');

export function breakObject(config: StablerailConfig, b: BreakRow) {
  const d = decimalsOfAsset(config, b.asset);
  return {
    id: b.id, object: 'reconciliation_break', class: b.class, status: b.status,
    merchant_id: b.merchant_id, order_reference: b.order_reference, payment_id: b.payment_id, tx_hash: b.tx_hash, log_index: b.log_index, entry_id: b.entry_id,
    asset: b.asset, expected: formatAmount(minorOf(b.expected_minor), d), actual: formatAmount(minorOf(b.actual_minor), d), drift: formatAmount(minorOf(b.drift_minor), d),
    first_run_id: b.first_run_id, last_run_id: b.last_run_id,
    resolution: b.resolution ?? null, resolved_by: b.resolved_by ?? null, reason: b.reason ?? null,
    created_at: new Date(b.created_at).toISOString(), resolved_at: b.resolved_at ? new Date(b.resolved_at).toISOString() : null,
  };
}

export function runObject(config: StablerailConfig, run: RunRow, breaks?: BreakRow[]) {
  const summary = (run.summary ?? {}) as StoredSummary;
  const drift: Record<string, Record<string, string>> = {};
  for (const [asset, byClass] of Object.entries(summary.drift_minor ?? {})) {
    drift[asset] = Object.fromEntries(Object.entries(byClass).map(([k, v]) => [k, formatAmount(BigInt(v), decimalsOfAsset(config, asset))]));
  }
  return {
    id: run.id, object: 'reconciliation_run', status: run.status, environment: run.environment, merchant_id: run.merchant_id, trigger: run.trigger,
    progress: run.progress, breaks_by_class: summary.breaks ?? null, open_breaks: summary.open_breaks ?? null, matched_payments: summary.matched_payments ?? null,
    drift_by_asset: drift, error: summary.error ?? null,
    started_at: new Date(run.started_at).toISOString(), finished_at: run.finished_at ? new Date(run.finished_at).toISOString() : null,
    ...(breaks ? { breaks: breaks.map((b) => breakObject(config, b)) } : {}),
  };
}

export function breaksCsv(config: StablerailConfig, breaks: BreakRow[]): string {
  return toCsv(
    ['break_id', 'class', 'status', 'merchant_id', 'order_reference', 'payment_id', 'tx_hash', 'log_index', 'entry_id', 'asset', 'expected', 'actual', 'drift', 'first_run_id', 'last_run_id'],
    breaks.map((b) => {
      const o = breakObject(config, b);
      return [o.id, o.class, o.status, o.merchant_id, o.order_reference, o.payment_id, o.tx_hash, o.log_index, o.entry_id, o.asset, o.expected, o.actual, o.drift, o.first_run_id, o.last_run_id];
    }),
  );
}

/** An operator's decision on a break: audited, and the break never reopens. */
export async function resolveBreak(pool: Pool, id: string, operator: string, resolution: string, reason: string): Promise<BreakRow | undefined> {
  return withTx(pool, async (c) => {
    const b = await repo.resolveOpenBreak(c, id, { resolvedBy: operator, resolution, reason });
    if (!b) return undefined;
    await appendEvidence(c, {
      kind: 'reconciliation.break_resolved', subject: b.payment_id ?? b.merchant_id ?? b.id, actor: operator,
      payload: { break_id: id, class: b.class, resolution, reason }, dedupeKey: `break:${id}:resolved`,
    });
    return b;
  });
}

export const newRunId = (): string => newId('rec');
