// Chain exceptions as operators work them: the queue is a plain Prisma Client read on
// (status, created_at DESC); closing one is TypedSQL in the caller's transaction, next to its
// evidence entry (prisma/sql/chainExceptionResolve.sql). They are written by the watcher and
// the payment workflow (chain-watch.ts, insertException) and closed by reorgs (chainRollBack.sql).
import type { ChainException } from '../../generated/prisma/client.js';
import type { AnyTx, Pool } from '../db.js';
import { prismaOf, typedRows } from '../db.js';
import { chainExceptionResolve } from './sql/chainExceptionResolve.js';

export type { ChainException };
export type ResolvedChainException = chainExceptionResolve.Result;

export const CHAIN_EXCEPTIONS_LISTED_MAX = 500;

/** The newest exceptions in a status, at most `limit`. */
export function chainExceptionsInStatus(pool: Pool, status: string, limit: number): Promise<ChainException[]> {
  return prismaOf(pool).chainException.findMany({ where: { status }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
}

/** Close an open exception; undefined when it is not open (or there is none). */
export async function resolveOpenChainException(c: AnyTx, id: string, d: { resolvedBy: string; resolution: string; reason: string }): Promise<ResolvedChainException | undefined> {
  return (await typedRows(c, chainExceptionResolve(id, d.resolvedBy, d.resolution, d.reason), 'chain_exception_resolve'))[0];
}
