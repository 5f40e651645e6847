// PostgreSQL access: one pg pool per process, shared by raw SQL on hot paths and by Prisma
// (through @prisma/adapter-pg, so no native query engine is needed) for plain reads.
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type Pool = pg.Pool;
export type DbClient = pg.PoolClient;

/** Connections per process: API and worker share 2 cores, so a few are plenty. */
export const POOL_SIZE_DEFAULT = 16;

export function createPool(url: string, max = POOL_SIZE_DEFAULT): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000 });
  // An idle client losing its server (a restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

export function createPrisma(pool: pg.Pool): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg(pool) });
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
