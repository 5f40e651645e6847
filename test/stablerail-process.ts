// `stablerail CMD` exactly as an operator runs it (the bin wrapper), in its own process group,
// for the tests that run the production processes (production-processes, tracing).
import { spawn, type ChildProcess } from 'node:child_process';

export interface Proc {
  child: ChildProcess;
  out(): string;
  exit: Promise<number | null>;
}

/** Starts `stablerail CMD` with only the environment given; resolves once its output shows readyText. The caller stops what it adds to `procs`. */
export function spawnStablerail(procs: Proc[], cmd: string, env: Record<string, string>, readyText: string): Promise<Proc> {
  const child = spawn(process.execPath, ['scripts/stablerail.mjs', cmd], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const p: Proc = { child, out: () => out, exit };
  procs.push(p);
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolve, reject) => {
    const check = () => { if (out.includes(readyText)) resolve(p); };
    child.stdout!.on('data', check);
    void exit.then((code) => reject(new Error(`stablerail ${cmd} exited ${code} before ready: ${out.slice(-3000)}`)));
  });
}
