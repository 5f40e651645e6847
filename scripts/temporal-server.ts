// A real Temporal server (go.temporal.io/server, not the dev server) on PostgreSQL, every
// service in one process: built from the Go module proxy once and cached, its schema set up with
// Temporal's own SQL tool, configured by temporal-config/temporal-server.yaml, and given
// Stablerail's namespace and search attributes. The cluster test and the benchmarks use it;
// `node --import tsx scripts/temporal-server.ts` runs one by hand (README "Production").
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import pg from 'pg';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { registerSearchAttributes } from '../temporal-config/search-attributes.js';
import { RETENTION_DAYS, STABLERAIL_NAMESPACE } from '../temporal-config/namespace.js';
import { forgetPid, recordPid, stopOrphan } from './embedded/orphans.js';

export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
/** The module needs Go 1.26.10; an older local Go fetches it as a toolchain from the module proxy. */
const GO_TOOLCHAIN = 'go1.26.10';
const CONFIG_DIR = fileURLToPath(new URL('../temporal-config/', import.meta.url));

export interface TemporalServerBinaries {
  server: string;
  sql: string;
}

/** Where the build is cached: one directory per server version, reused by every checkout. */
export function temporalServerCacheDir(): string {
  return process.env.STABLERAIL_TEMPORAL_SERVER_DIR ?? join(homedir(), '.cache', 'stablerail', 'temporal-server', TEMPORAL_SERVER_VERSION);
}

/**
 * The server and its SQL schema tool, built with `go install` the first time (about six minutes
 * and 2 GB of memory on two cores) and found in the cache afterwards.
 */
export function ensureTemporalServerBuild(log: (s: string) => void = () => undefined): TemporalServerBinaries {
  const dir = temporalServerCacheDir();
  const bins = { server: join(dir, 'server'), sql: join(dir, 'sql') };
  if (existsSync(bins.server) && existsSync(bins.sql)) return bins;
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, GOBIN: dir, GOTOOLCHAIN: GO_TOOLCHAIN, GOFLAGS: '-mod=mod -buildvcs=false' };
  for (const pkg of ['go.temporal.io/server/cmd/server', 'go.temporal.io/server/cmd/tools/sql']) {
    log(`building ${pkg}@${TEMPORAL_SERVER_VERSION} with go install (first run only; several minutes)`);
    const r = spawnSync('go', ['install', `${pkg}@${TEMPORAL_SERVER_VERSION}`], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.error) throw new Error(`go install ${pkg}: ${r.error.message} (is Go installed? https://go.dev/dl)`);
    if (r.status !== 0) throw new Error(`go install ${pkg} failed (exit ${r.status})`);
  }
  return bins;
}

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Temporal's two databases; a second server on the same PostgreSQL takes a prefix of its own. */
export const temporalDatabases = (prefix = 'temporal') => ({ default: prefix, visibility: `${prefix}_visibility` });

function runSqlTool(sqlBin: string, pgt: PostgresTarget, db: string, args: string[]): void {
  const r = spawnSync(sqlBin, ['--plugin', 'postgres12', '--ep', pgt.host, '-p', String(pgt.port), '-u', pgt.user, '--db', db, ...args], {
    // The password goes by environment, not argv, so it stays out of `ps`.
    env: { ...process.env, SQL_PASSWORD: pgt.password },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`temporal sql tool ${args[0]} on ${db} failed (exit ${r.status}): ${(r.stderr || r.stdout).slice(-2000)}`);
}

/**
 * Create Temporal's two databases and bring their schemas to this server version. Safe to run
 * at every start: `setup-schema -v 0.0` only on a database without a version table, then
 * `update-schema`, which applies only the versions not yet recorded.
 */
export async function setupTemporalSchema(sqlBin: string, pgt: PostgresTarget, log: (s: string) => void = () => undefined, prefix = 'temporal'): Promise<void> {
  const dbs = temporalDatabases(prefix);
  const databases = [
    { name: dbs.default, schema: 'postgresql/v12/temporal' },
    { name: dbs.visibility, schema: 'postgresql/v12/visibility' },
  ];
  const admin = new pg.Client({ host: pgt.host, port: pgt.port, user: pgt.user, password: pgt.password, database: 'postgres' });
  await admin.connect();
  try {
    for (const db of databases) {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
      if (!exists.rows[0]) {
        log(`creating database ${db.name}`);
        runSqlTool(sqlBin, pgt, db.name, ['create-database']);
      }
      const c = new pg.Client({ host: pgt.host, port: pgt.port, user: pgt.user, password: pgt.password, database: db.name });
      await c.connect();
      const versioned = await c.query(`SELECT to_regclass('public.schema_version') IS NOT NULL AS v`).then((r) => r.rows[0].v as boolean).finally(() => c.end());
      if (!versioned) runSqlTool(sqlBin, pgt, db.name, ['setup-schema', '-v', '0.0']);
      runSqlTool(sqlBin, pgt, db.name, ['update-schema', '--schema-name', db.schema]);
    }
  } finally {
    await admin.end();
  }
}

/**
 * A base port with `count` free ports after it, for the services' gRPC and membership ports:
 * below 32768, because the server stores membership ports in a PostgreSQL smallint.
 */
async function freePortRange(count: number): Promise<number> {
  const free = (p: number) =>
    new Promise<boolean>((res) => {
      const s = createServer();
      s.once('error', () => res(false));
      s.listen(p, '127.0.0.1', () => s.close(() => res(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 12000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await free(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

export interface TemporalServerTls {
  /** The frontend's certificate and key (PEM files) and the CA its clients' certificates must chain to. */
  certFile: string;
  keyFile: string;
  clientCaFile: string;
  /** The name in the server certificate (default localhost). */
  serverName?: string;
}

export interface TemporalServerOptions {
  /** Where the pid file and the server's log go. */
  dataDir: string;
  postgres: PostgresTarget;
  /** Names the two databases (`<prefix>` and `<prefix>_visibility`); default temporal. */
  databasePrefix?: string;
  /** The frontend's gRPC port (default `portBase` + 8); the other services take 8 ports from `portBase`. Both below 32768. */
  port?: number;
  portBase?: number;
  metricsPort?: number;
  namespace?: string;
  tls?: TemporalServerTls;
  /** How this process reaches the frontend to register the namespace (defaults: plain, or mTLS with `tls`' files as the client's). */
  connectionOptions?: ConnectionOptions;
  log?: (s: string) => void;
}

export interface TemporalServer {
  address: string;
  namespace: string;
  port: number;
  portBase: number;
  process: ChildProcess;
  logFile: string;
  /** SIGTERM and wait (SIGKILL after 20 s); removes the pid file. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: the pid file stays until the next start finds it. */
  kill(): Promise<void>;
}

/** Connection options for this process to reach a server started with `tls`. */
export function tlsConnectionOptions(address: string, tls: TemporalServerTls): ConnectionOptions {
  return {
    address,
    tls: {
      serverNameOverride: tls.serverName ?? 'localhost',
      serverRootCACertificate: readFileSync(tls.clientCaFile),
      clientCertPair: { crt: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
    },
  };
}

/**
 * Start the server (building it and setting up its schema when needed), wait for its frontend,
 * and register the namespace and Stablerail's search attributes on it.
 */
export async function startTemporalServer(o: TemporalServerOptions): Promise<TemporalServer> {
  const log = o.log ?? (() => undefined);
  const bins = ensureTemporalServerBuild(log);
  await setupTemporalSchema(bins.sql, o.postgres, log, o.databasePrefix);
  mkdirSync(o.dataDir, { recursive: true });
  const pidFile = join(o.dataDir, 'temporal-server.pid');
  await stopOrphan(pidFile, 'Temporal server', log);
  const portBase = o.portBase ?? (await freePortRange(9));
  const port = o.port ?? portBase + 8;
  const logFile = join(o.dataDir, 'temporal-server.log');
  const out = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_PG_HOST: o.postgres.host,
    TEMPORAL_PG_PORT: String(o.postgres.port),
    TEMPORAL_PG_USER: o.postgres.user,
    TEMPORAL_PG_PASSWORD: o.postgres.password,
    TEMPORAL_PG_DATABASE: temporalDatabases(o.databasePrefix).default,
    TEMPORAL_PG_VISIBILITY_DATABASE: temporalDatabases(o.databasePrefix).visibility,
    TEMPORAL_FRONTEND_PORT: String(port),
    TEMPORAL_PORT_BASE: String(portBase),
    TEMPORAL_DYNAMIC_CONFIG: join(CONFIG_DIR, 'dynamicconfig.yaml'),
    TEMPORAL_METRICS_PORT: o.metricsPort ? String(o.metricsPort) : '',
    TEMPORAL_TLS_CERT: o.tls?.certFile ?? '',
    TEMPORAL_TLS_KEY: o.tls?.keyFile ?? '',
    TEMPORAL_TLS_CLIENT_CA: o.tls?.clientCaFile ?? '',
    TEMPORAL_TLS_SERVER_NAME: o.tls?.serverName ?? 'localhost',
  };
  const args = ['--config-file', join(CONFIG_DIR, 'temporal-server.yaml'), '--allow-no-auth', 'start'];
  const proc = spawn(bins.server, args, { env, stdio: ['ignore', out, out] });
  closeSync(out);
  // With its arguments, so a later start acts on the pid only if it is still this server.
  recordPid(pidFile, proc.pid, args);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const address = `127.0.0.1:${port}`;
  const namespace = o.namespace ?? STABLERAIL_NAMESPACE;
  const connectOpts: ConnectionOptions = o.connectionOptions ?? (o.tls ? tlsConnectionOptions(address, o.tls) : { address });
  const tail = () => readFileSync(logFile, 'utf8').slice(-3000);
  const deadline = Date.now() + 120_000;
  let conn: Connection | null = null;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`temporal server exited (${proc.exitCode}): ${tail()}`);
    try {
      conn = await Connection.connect({ ...connectOpts, connectTimeout: 2000 });
      await conn.workflowService.getSystemInfo({});
      break;
    } catch (err) {
      await conn?.close().catch(() => undefined);
      conn = null;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`temporal server did not become ready: ${(err as Error).message}\n${tail()}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    await ensureNamespace(conn, namespace);
    const added = await registerSearchAttributes(conn, namespace);
    if (added.length) log(`registered search attributes ${added.join(', ')} on ${namespace}`);
  } finally {
    await conn.close();
  }
  const stop = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    }
  };
  return {
    address, namespace, port, portBase, process: proc, logFile,
    async stop() {
      await stop('SIGTERM');
      forgetPid(pidFile);
    },
    kill: () => stop('SIGKILL'),
  };
}

/** Register the namespace if missing and wait until the frontend serves it. */
export async function ensureNamespace(conn: Connection, namespace: string): Promise<void> {
  const exists = await conn.workflowService.describeNamespace({ namespace }).then(() => true, (err: { code?: number }) => {
    if (err.code === 5 /* NOT_FOUND */) return false;
    throw err;
  });
  if (!exists) {
    await conn.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(`${RETENTION_DAYS} days`) }).catch((err: { code?: number }) => {
      if (err.code !== 6 /* ALREADY_EXISTS: another starter won */) throw err;
    });
  }
  // describeNamespace reads the database; the services' namespace registry refreshes on its own
  // clock (every second, dynamicconfig.yaml). Wait until a registry-backed call knows it.
  for (let i = 0; ; i++) {
    try {
      await conn.operatorService.listSearchAttributes({ namespace });
      return;
    } catch (err) {
      if (i > 60) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** `node --import tsx scripts/temporal-server.ts`: run a server until Ctrl-C. */
async function main(): Promise<void> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const dataDir = resolve(process.env.STABLERAIL_DATA_DIR ?? '.stablerail', 'temporal-server');
  const port = Number(process.env.STABLERAIL_TEMPORAL_PORT ?? 7233);
  let postgres: PostgresTarget;
  let stopPg: (() => Promise<void>) | null = null;
  if (process.env.TEMPORAL_DATABASE_URL) {
    // An existing PostgreSQL server (a role allowed to create databases).
    const u = new URL(process.env.TEMPORAL_DATABASE_URL);
    postgres = { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  } else {
    const { startEmbeddedPostgres, PG_USER, PG_PASSWORD } = await import('./embedded/postgres.js');
    const pgPort = Number(process.env.STABLERAIL_TEMPORAL_PG_PORT ?? 5434);
    const epg = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg'), port: pgPort, log });
    postgres = { host: '127.0.0.1', port: pgPort, user: PG_USER, password: PG_PASSWORD };
    stopPg = () => epg.stop();
  }
  const server = await startTemporalServer({ dataDir, postgres, port, log });
  log(`Temporal server ${TEMPORAL_SERVER_VERSION} on ${server.address}, namespace ${server.namespace} (log: ${server.logFile})`);
  log(`run the processes with TEMPORAL_ADDRESS=${server.address} TEMPORAL_NAMESPACE=${server.namespace}`);
  await new Promise<void>((res) => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => res());
  });
  await server.stop();
  await stopPg?.();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
