// A server the launcher started records its pid next to its data; after a crash (SIGKILL of
// `npm start`) the next start finds it still running and stops it before starting a new one.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function stopOrphan(pidFile: string, what: string, log?: (s: string) => void): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (pid && isAlive(pid)) {
    log?.(`stopping ${what} ${pid} left running by an earlier crash`);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
}

export const recordPid = (pidFile: string, pid: number | undefined): void => {
  if (pid) writeFileSync(pidFile, String(pid));
};

export const forgetPid = (pidFile: string): void => rmSync(pidFile, { force: true });
