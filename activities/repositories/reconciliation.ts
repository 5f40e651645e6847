// Reconciliation's database side. The break classes and the run's totals are set-based queries
// (one statement matches a whole class across the three planes), so they are TypedSQL files in
// prisma/sql, with result types from the database; the run row's plain create and progress
// writes go through Prisma Client. An operator's resolution of a break stays in
// activities/reconciliation.ts: it shares a transaction with the evidence log's append.
import { Prisma } from '../../generated/prisma/client.js';
import type { AnyTx, Pool } from '../db.js';
import { prismaOf, prismaOrTx, typedRows } from '../db.js';
import { reconciliationAcknowledged } from './sql/reconciliationAcknowledged.js';
import { reconciliationBreakResolve } from './sql/reconciliationBreakResolve.js';
import { reconciliationBreaks } from './sql/reconciliationBreaks.js';
import { reconciliationClearStale } from './sql/reconciliationClearStale.js';
import { reconciliationDetect } from './sql/reconciliationDetect.js';
import { reconciliationMatchedPayments } from './sql/reconciliationMatchedPayments.js';
import { reconciliationRunEnd } from './sql/reconciliationRunEnd.js';
import { reconciliationRuns } from './sql/reconciliationRuns.js';
import { reconciliationRunsPrune } from './sql/reconciliationRunsPrune.js';
import { reconciliationTotals } from './sql/reconciliationTotals.js';

export type RunRow = reconciliationRuns.Result;
export type BreakRow = reconciliationBreaks.Result;
export type TotalsRow = reconciliationTotals.Result;

/**
 * A class's statement scans whole tables: 6 s for the slowest class at a million payments on two
 * cores (docs/benchmarks.md, Reconciliation), past Prisma's 5 s default for a transaction. Bounded
 * by the activity's own 10-minute start-to-close instead; a connection is waited for as long as
 * the pool's own connect timeout.
 */
const RUN_TX = { timeout: 600_000, maxWait: 10_000, isolationLevel: 'ReadCommitted' } as const;

export interface RunScopeRow {
  runId: string;
  environment: string;
  merchantId: string | null;
  graceS: number;
}

/** The run's row, `running`; a second insert of the same id (the API's, then the workflow's) is a no-op. */
export async function insertRun(db: Pool | Prisma.TransactionClient, r: { runId: string; environment: string; merchantId: string | null; trigger: string; requestedBy: string; progress: Prisma.InputJsonObject }): Promise<boolean> {
  const { count } = await prismaOrTx(db).reconciliationRun.createMany({
    data: [{ id: r.runId, environment: r.environment, merchantId: r.merchantId, status: 'running', trigger: r.trigger, requestedBy: r.requestedBy, progress: r.progress }],
    skipDuplicates: true,
  });
  return count === 1;
}

/**
 * prisma/sql/reconciliationDetect.sql for one class, and the run's progress, in one transaction.
 * Returns how many breaks of the class this run stamped (new or still present).
 */
export async function detectClass(pool: Pool, scope: RunScopeRow, breakClass: string, rails: Array<{ id: string; asset: string }>, progress: Prisma.InputJsonObject): Promise<number> {
  const prisma = prismaOf(pool);
  const [found] = await prisma.$transaction([
    prisma.$queryRawTyped(reconciliationDetect(scope.runId, scope.environment, scope.merchantId, scope.graceS, rails.map((r) => r.id), rails.map((r) => r.asset), breakClass)),
    prisma.reconciliationRun.update({ where: { id: scope.runId }, data: { progress } }),
  ], RUN_TX);
  return found[0]?.breaks ?? 0;
}

/**
 * The end of a run in one transaction: clear what it no longer sees, total its open breaks,
 * pick the matched payments (at most `matchedMax`), and mark it completed with the summary
 * that `summarize` builds from the totals and the matched ids.
 */
export async function completeRun<S extends Prisma.InputJsonObject>(
  pool: Pool,
  scope: RunScopeRow,
  matchedMax: number,
  summarize: (totals: TotalsRow[], matchedIds: string[]) => S,
): Promise<{ summary: S; matchedIds: string[] }> {
  return prismaOf(pool).$transaction(async (tx) => {
    await tx.$queryRawTyped(reconciliationClearStale(scope.runId, scope.environment, scope.merchantId));
    const totals = await tx.$queryRawTyped(reconciliationTotals(scope.runId));
    const matched = await tx.$queryRawTyped(reconciliationMatchedPayments(scope.environment, scope.merchantId, scope.graceS, matchedMax));
    const matchedIds = matched.map((m) => m.id);
    const summary = summarize(totals, matchedIds);
    await tx.$queryRawTyped(reconciliationRunEnd(scope.runId, 'completed', summary));
    return { summary, matchedIds };
  }, RUN_TX);
}

/** prisma/sql/reconciliationAcknowledged.sql: the payments marked reconciled by this call. */
export async function markReconciled(pool: Pool, runId: string, acknowledgedIds: string[], unacknowledged: number): Promise<number> {
  const rows = await prismaOf(pool).$queryRawTyped(reconciliationAcknowledged(runId, acknowledgedIds, unacknowledged));
  return rows[0]?.newly_reconciled ?? 0;
}

export async function failRun(pool: Pool, runId: string, error: string): Promise<void> {
  await prismaOf(pool).$queryRawTyped(reconciliationRunEnd(runId, 'failed', { error }));
}

/** One run; with merchantId, only if it is that merchant's. */
export async function findRun(pool: Pool, runId: string, merchantId?: string): Promise<RunRow | undefined> {
  const rows = await prismaOf(pool).$queryRawTyped(reconciliationRuns(runId, merchantId ?? null, 1, null));
  return rows[0];
}

/** The operators' list of runs, newest first, keyset-paged after `startingAfter` (a run id). */
export const RUNS_PAGE_DEFAULT = 50;
export function latestRuns(pool: Pool, page: { limit: number; startingAfter: string | null }): Promise<RunRow[]> {
  return prismaOf(pool).$queryRawTyped(reconciliationRuns(null, null, page.limit, page.startingAfter));
}

/** Whether a run exists (a cursor must name one). */
export async function runExists(pool: Pool, id: string): Promise<boolean> {
  return (await prismaOf(pool).reconciliationRun.count({ where: { id } })) > 0;
}

/** Whether a break exists (a cursor must name one). */
export async function breakExists(pool: Pool, id: string): Promise<boolean> {
  return (await prismaOf(pool).reconciliationBreak.count({ where: { id } })) > 0;
}

/** What a run found (reconciliation_run_breaks), by class and fingerprint: the amounts it saw, each break's status now. */
export const RUN_BREAKS_MAX = 100_000;
export function breaksFoundByRun(pool: Pool, runId: string): Promise<BreakRow[]> {
  return prismaOf(pool).$queryRawTyped(reconciliationBreaks(runId, null, RUN_BREAKS_MAX, null));
}

/** The operators' queue: breaks in a status, newest first, keyset-paged after `startingAfter` (a break id). */
export const BREAK_QUEUE_MAX = 500;
export function breaksInStatus(pool: Pool, status: string, page: { limit: number; startingAfter: string | null }): Promise<BreakRow[]> {
  return prismaOf(pool).$queryRawTyped(reconciliationBreaks(null, status, page.limit, page.startingAfter));
}

/** An operator's decision on a break not yet resolved, in the caller's transaction; undefined when it was (or is no break). */
export async function resolveOpenBreak(c: AnyTx, id: string, d: { resolvedBy: string; resolution: string; reason: string }): Promise<BreakRow | undefined> {
  return (await typedRows(c, reconciliationBreakResolve(id, d.resolvedBy, d.resolution, d.reason)))[0];
}

/** When the oldest scheduled run of an environment started (retention prunes from there). */
export async function oldestScheduledRunAt(pool: Pool, environment: string): Promise<Date | null> {
  const r = await prismaOf(pool).reconciliationRun.aggregate({ where: { environment, trigger: 'schedule' }, _min: { startedAt: true } });
  return r._min.startedAt;
}

/** One retention batch in the caller's transaction (prisma/sql/reconciliationRunsPrune.sql). */
export async function pruneScheduledRuns(tx: Prisma.TransactionClient, environment: string, before: Date, limit: number) {
  const [r] = await tx.$queryRawTyped(reconciliationRunsPrune(environment, before, limit));
  return { runs: r?.runs ?? 0, reportRows: r?.report_rows ?? 0, firstId: r?.first_id ?? null, newestStartedAt: r?.newest_started_at ?? null };
}
