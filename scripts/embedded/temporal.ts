// The embedded Temporal dev server: `temporal server start-dev`, persisting to a file in the
// data directory, with the Web UI and Stablerail's namespace and search attributes.
import { spawn, type ChildProcess } from 'node:child_process';
import { forgetPid, killWithParent, recordPid, stopOrphan } from './orphans.js';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { findOrInstallBinary } from './binaries.js';
import { SEARCH_ATTRIBUTE_DEFS } from '../../temporal-config/search-attributes.js';

export async function freePort(preferred?: number): Promise<number> {
  const tryPort = (p: number) =>
    new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
  if (preferred) {
    try {
      return await tryPort(preferred);
    } catch { /* taken: fall through to any free port */ }
  }
  return tryPort(0);
}

/** The dev server's SQLite settings: write-ahead log, and an fsync on every commit. */
export const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=full'] as const;

export interface TemporalDevServer {
  address: string;
  namespace: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(opts: {
  port: number;
  namespace: string;
  /** The SQLite file the dev server persists to (tests and benchmarks use one in their temp directory). */
  dbFile: string;
  ui?: boolean;
  uiPort?: number;
  log?: (s: string) => void;
}): Promise<TemporalDevServer> {
  const cli = findOrInstallBinary('temporal', opts.log);
  // A dev server orphaned by a crash would hold the database file: stop it first.
  const pidFile = `${opts.dbFile}.pid`;
  await stopOrphan(pidFile, 'Temporal dev server', opts.log);
  const uiPort = opts.ui === false ? null : await freePort(opts.uiPort ?? opts.port + 1);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--namespace', opts.namespace, '--log-level', 'error'];
  // WAL with synchronous=full stays durable (each commit is fsynced to the log) and, measured on two
  // cores, starts 220 workflows/s against 62/s in SQLite's default rollback journal.
  args.push('--db-filename', opts.dbFile, ...SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]));
  if (uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-ip', '127.0.0.1');
  for (const sa of SEARCH_ATTRIBUTE_DEFS) args.push('--search-attribute', `${sa.name}=${sa.type}`);
  // Keep the dev server's own metrics endpoint off a fixed port, so two servers can run side by side.
  args.push('--metrics-port', String(await freePort()));
  const proc = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  recordPid(pidFile, proc.pid, args);
  // However it ends (stopped, crashed, signalled with its group), its pid file goes with it.
  proc.once('exit', () => forgetPid(pidFile));
  killWithParent(proc);
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const address = `127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`temporal dev server exited (${proc.exitCode}): ${stderr}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      await conn.workflowService.describeNamespace({ namespace: opts.namespace });
      await conn.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`temporal dev server did not become ready: ${(err as Error).message} ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    namespace: opts.namespace,
    uiUrl: uiPort === null ? null : `http://127.0.0.1:${uiPort}`,
    process: proc,
    async stop() {
      // Already gone (a signal to the whole process group reaches it too): remove the pid file all the same.
      if (proc.exitCode !== null || proc.signalCode !== null) {
        forgetPid(pidFile);
        return;
      }
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      forgetPid(pidFile);
    },
  };
}

