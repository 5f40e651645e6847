// PostgreSQL access: one pg pool per process, shared by Prisma Client (through
// @prisma/adapter-pg: no native query engine) for plain reads and writes and TypedSQL's
// set-based queries, and by the few raw statements a benchmark asked for (activities/repositories/).
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import type { TypedSql } from '@prisma/client/runtime/client';
import { PrismaClient, type Prisma } from '../generated/prisma/client.js';

export type Pool = pg.Pool;
export type DbClient = pg.PoolClient;

/** Connections per process: API and worker share 2 cores, so a few are plenty. */
export const POOL_SIZE_DEFAULT = 16;

export function createPool(url: string, max = POOL_SIZE_DEFAULT, opts: { synchronousCommit?: boolean } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    ...(opts.synchronousCommit === false ? { options: '-c synchronous_commit=off' } : {}),
  });
  // An idle client losing its server (a restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // A checked-out client has no error listener of the pool's: its server going away between two
  // statements (PostgreSQL restarted, or stopped by the Ctrl-C that reached its process group)
  // would crash the process. The statement in flight fails on its own; the pool drops the client.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

const clients = new WeakMap<pg.Pool, PrismaClient>();

/**
 * The Prisma Client over a pool: one per pool, created on first use, sharing the pool's
 * connections (and closed with it: the pool's owner ends it, Prisma does not).
 */
export function prismaOf(pool: pg.Pool): PrismaClient {
  let client = clients.get(pool);
  if (!client) {
    client = new PrismaClient({ adapter: new PrismaPg(pool) });
    clients.set(pool, client);
  }
  return client;
}

/** Prisma Client on a pool, or the caller's Prisma transaction: for repository calls that run either way. */
export function prismaOrTx(db: pg.Pool | Prisma.TransactionClient): Prisma.TransactionClient {
  return typeof (db as pg.Pool).connect === 'function' ? prismaOf(db as pg.Pool) : (db as Prisma.TransactionClient);
}

/**
 * A Prisma interactive transaction at READ COMMITTED, for the repositories' short writes that
 * share a transaction with the evidence log's append. Prisma's own 5 s limit aborts a transaction
 * outright; an append may wait that long for the evidence chain's lock behind a burst of payment
 * transitions on two busy cores, so the limit here is 30 s and a connection is waited for as
 * long as the pool's own connect timeout.
 */
export function withPrismaTx<T>(pool: pg.Pool, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  return prismaOf(pool).$transaction(fn, { isolationLevel: 'ReadCommitted', maxWait: 10_000, timeout: 30_000 });
}

/** Run fn in one transaction at READ COMMITTED (said explicitly, not trusted to a default). */
export async function withTx<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN ISOLATION LEVEL READ COMMITTED');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

/**
 * A pool whose commits do not wait for fsync, for bookkeeping that a later durable commit
 * covers anyway: WAL is flushed in order, so when a payment's own (synchronous) commit is on
 * disk, every earlier asynchronous commit is too. Used for Idempotency-Key claims and answers;
 * losing one in a crash only means the client's retry takes the claim over after its lease.
 */
export const createRelaxedPool = (url: string): pg.Pool => createPool(url, 8, { synchronousCommit: false });

/** A transaction of either kind: a pg client inside BEGIN (the workflows' hot paths) or Prisma's. */
export type AnyTx = DbClient | Prisma.TransactionClient;

export const isPgClient = (c: AnyTx | Pool): c is DbClient | Pool => typeof (c as DbClient).query === 'function';

/**
 * A TypedSQL query (prisma/sql/*.sql) run in either kind of transaction, so a statement shared
 * by a hot pg transaction and a Prisma one is written, typed and drift-checked once. Over pg a
 * bigint or numeric column arrives as a string where Prisma gives BigInt or Decimal: queries
 * run through here select such columns as text or int. `name` prepares it once per pg connection.
 */
export async function typedRows<R>(c: AnyTx | Pool, q: TypedSql<unknown[], R>, name?: string): Promise<R[]> {
  if (!isPgClient(c)) return (c as Prisma.TransactionClient).$queryRawTyped(q);
  const { rows } = await c.query({ text: q.sql, values: [...q.values], ...(name ? { name } : {}) });
  return rows as R[];
}
