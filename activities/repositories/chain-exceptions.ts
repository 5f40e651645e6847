// Chain exceptions as operators work them, through Prisma Client: the queue is a read on
// (status, created_at DESC); closing one runs in the caller's Prisma transaction, next to its
// evidence entry. They are written by the watcher and the payment workflow (chain-watch.ts,
// insertException) and closed by reorgs (chainRollBack.sql).
import type { ChainException, Prisma } from '../../generated/prisma/client.js';
import type { Pool } from '../db.js';
import { prismaOf } from '../db.js';

export type { ChainException };

export const CHAIN_EXCEPTIONS_LISTED_MAX = 500;

/** The newest exceptions in a status, at most `limit`, keyset-paged after `after` (the last one of the previous page). */
export function chainExceptionsInStatus(pool: Pool, status: string, limit: number, after: ChainException | null = null): Promise<ChainException[]> {
  const older = after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {};
  return prismaOf(pool).chainException.findMany({ where: { status, ...older }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
}

/** One exception by id (a list's cursor). */
export function chainExceptionById(pool: Pool, id: string): Promise<ChainException | null> {
  return prismaOf(pool).chainException.findUnique({ where: { id } });
}

/** Close an open exception; null when it is not open (or there is none). */
export async function resolveOpenChainException(tx: Prisma.TransactionClient, id: string, d: { resolvedBy: string; resolution: string; reason: string }): Promise<ChainException | null> {
  const { count } = await tx.chainException.updateMany({ where: { id, status: 'open' }, data: { status: 'resolved', ...d, resolvedAt: new Date() } });
  return count === 1 ? tx.chainException.findUnique({ where: { id } }) : null;
}
