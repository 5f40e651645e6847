// A server the launcher started records its pid and command line next to its data; after a
// crash (SIGKILL of `npm start`) the next start finds it still running and stops it before
// starting a new one. Pids are reused: a pid file is acted on only when the process it names
// still runs the command line that wrote it, never whatever process now has that number.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LauncherError } from './launcher-error.js';
import { spawnSync, type ChildProcess } from 'node:child_process';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The argv of a running process (Linux /proc, else `ps`), or null when it cannot be read. */
export function commandLineOf(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw) return raw.replace(/\0$/, '').split('\0');
  } catch { /* no /proc (macOS) or the process is gone */ }
  const ps = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  if (ps.status !== 0 || !ps.stdout.trim()) return null;
  // ps joins argv with spaces: compare as one string.
  return [ps.stdout.trim()];
}

/**
 * Whether `pid` runs with exactly these arguments after its program name. The program itself may
 * differ from what was spawned (a shim or a `#!` script execs the real binary); the arguments
 * (ports, data files) are what make the process ours. Compared joined, so ps's flattening matches.
 */
export function runsCommand(pid: number, args: readonly string[]): boolean {
  const actual = commandLineOf(pid);
  if (actual === null) return false;
  const joined = actual.join(' ');
  const tail = args.join(' ');
  return args.length === 0 ? false : joined.endsWith(` ${tail}`);
}

interface PidRecord {
  pid: number;
  /** The arguments the process was started with (its program name aside). */
  args: string[];
}

function readRecord(pidFile: string): PidRecord | null {
  try {
    const r = JSON.parse(readFileSync(pidFile, 'utf8')) as Partial<PidRecord>;
    if (typeof r.pid === 'number' && Array.isArray(r.args)) return { pid: r.pid, args: r.args.map(String) };
  } catch { /* an older bare-pid file, or garbage */ }
  return null;
}

/** Stop `pid` with `signal`, then SIGKILL if it has not exited within `graceMs`. */
export async function stopPid(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  for (let waited = 0; waited < graceMs && isAlive(pid); waited += 50) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* exited meanwhile */ }
  }
}

export async function stopOrphan(pidFile: string, what: string, log?: (s: string) => void): Promise<void> {
  if (!existsSync(pidFile)) return;
  const rec = readRecord(pidFile);
  if (!rec) {
    log?.(`${pidFile} names no command line: left the process alone and removed the file`);
  } else if (isAlive(rec.pid) && runsCommand(rec.pid, rec.args)) {
    log?.(`stopping ${what} ${rec.pid} left running by an earlier crash`);
    await stopPid(rec.pid, 'SIGTERM', 10_000);
  } else if (isAlive(rec.pid)) {
    log?.(`pid ${rec.pid} from ${pidFile} now runs something else: left alone`);
  }
  rmSync(pidFile, { force: true });
}

export const recordPid = (pidFile: string, pid: number | undefined, args: readonly string[]): void => {
  if (pid) writeFileSync(pidFile, JSON.stringify({ pid, args }) + '\n');
};

export const forgetPid = (pidFile: string): void => rmSync(pidFile, { force: true });

/**
 * Kill `child` if this process exits while it still runs (a test runner's forced exit, an
 * uncaught error): a server the launcher started must not outlive it unnoticed. A stop that ran
 * first has already ended it, and the hook goes with it.
 */
export function killWithParent(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.once('exit', onExit);
  child.once('exit', () => process.off('exit', onExit));
}

/**
 * One launcher per data directory. Its claim is `launcher.pid` (this process's pid and command
 * line). A claim whose launcher still runs refuses a second `npm start` before it touches
 * anything (the servers it would otherwise take for a crash's orphans are that launcher's, alive);
 * a claim left by a crash is taken over. Answers the release, for a clean stop.
 */
export function claimDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'launcher.pid');
  const held = readRecord(file);
  if (held && held.pid !== process.pid && isAlive(held.pid) && runsCommand(held.pid, held.args)) {
    throw new LauncherError(`another npm start (pid ${held.pid}) is running on ${dataDir}: stop it first (Ctrl-C), or give this one a STABLERAIL_DATA_DIR of its own`);
  }
  rmSync(file, { force: true });
  const self = commandLineOf(process.pid) ?? process.argv;
  try {
    // wx: of two launchers starting at the same instant, one writes the claim and the other is refused.
    writeFileSync(file, JSON.stringify({ pid: process.pid, args: self.slice(1) } satisfies PidRecord), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new LauncherError(`another npm start is starting on ${dataDir} at this moment`);
    throw err;
  }
  return () => {
    if (readRecord(file)?.pid === process.pid) rmSync(file, { force: true });
  };
}
