// Sweeps of deposit addresses to the treasury: the plan, the execute decision and the result,
// through Prisma Client (writes in the caller's Prisma transaction, beside their evidence entry).
// Finding the addresses to sweep joins three tables: TypedSQL.
import type { Prisma, Sweep } from '../../generated/prisma/client.js';
import type { Pool } from '../db.js';
import { prismaOf } from '../db.js';
import { sweepCandidates } from './sql/sweepCandidates.js';

type Tx = Prisma.TransactionClient;

export async function findSweep(pool: Pool, id: string): Promise<Sweep | null> {
  return prismaOf(pool).sweep.findUnique({ where: { id } });
}

export function candidateAddresses(pool: Pool, rail: string, environment: string, limit: number) {
  return prismaOf(pool).$queryRawTyped(sweepCandidates(rail, environment, limit));
}

export function insertSweep(tx: Tx, s: { id: string; environment: string; rail: string; treasuryAddress: string; plan: Prisma.InputJsonValue; plannedBy: string }): Promise<Sweep> {
  return tx.sweep.create({ data: { ...s, status: 'planned' } });
}

/** planned → running; false when the sweep was not planned (run already, or canceled). */
export async function markRunning(tx: Tx, id: string, executedBy: string): Promise<boolean> {
  const { count } = await tx.sweep.updateMany({ where: { id, status: 'planned' }, data: { status: 'running', executedBy, updatedAt: new Date() } });
  return count === 1;
}

/** The run id the sweep's `sweep.executed` evidence entry names, if it has one. */
export async function executedByRun(tx: Tx, id: string): Promise<string | undefined> {
  const e = await tx.evidence.findUnique({ where: { dedupeKey: `sweep:${id}:executed` }, select: { payload: true } });
  const runId = (e?.payload as { run_id?: unknown } | undefined)?.run_id;
  return typeof runId === 'string' ? runId : undefined;
}

/** running → completed or failed, with the per-address results; a sweep not running is left alone. */
export async function finishRunning(tx: Tx, id: string, status: string, result: Prisma.InputJsonValue): Promise<void> {
  await tx.sweep.updateMany({ where: { id, status: 'running' }, data: { status, result, updatedAt: new Date() } });
}
