// The time-skipping test server for the workflow tests (both tiers). The SDK gives the server's
// process 5 s to accept connections; on a loaded two-core CI machine one start took longer and
// failed its suite's `before all` ("did not start within 5s"), though the server starts in about
// 0.2 s when the machine is quiet. A start that fails that way is tried again, after the process
// it left behind (if any) is stopped.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { findOrInstallBinary } from '../scripts/embedded/binaries.js';

const ATTEMPTS = 3;

export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const path = findOrInstallBinary('temporal-test-server');
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
    } catch (err) {
      if (attempt >= ATTEMPTS || !/did not start within/.test(String(err))) throw err;
      const port = /ephemeral server at [\d.]+:(\d+)/.exec(String(err))?.[1];
      if (port) stopServerOn(path, port);
      await sleep(1000);
    }
  }
}

/**
 * Stop a test server started from `binary` on `port` (Linux /proc; a no-op elsewhere). Reads
 * /proc directly rather than through orphans.ts's commandLineOf, which runs `ps` for every
 * process whose cmdline is empty (each kernel thread).
 */
function stopServerOn(binary: string, port: string): void {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[0] === binary && argv[1] === port) process.kill(Number(pid), 'SIGKILL');
    } catch { /* exited meanwhile, or not ours to read */ }
  }
}
