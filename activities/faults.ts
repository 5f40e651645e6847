// Fault injection for the crash tests, and nothing else. A test worker process is started with
// STABLERAIL_FAULT_<POINT>=<marker file>: the first time the point is reached the process marks
// the file and kills itself with SIGKILL (no cleanup, as a power cut would), so the test can
// prove what a crash at exactly that point leaves behind. Unset in every real deployment.
import { existsSync, writeFileSync } from 'node:fs';

export type FaultPoint = 'EXIT_AFTER_SIGN' | 'EXIT_AFTER_BROADCAST' | 'EXIT_AFTER_CLAIM' | 'EXIT_BEFORE_ANSWER';

export function crashPoint(point: FaultPoint, subject: string): void {
  const marker = process.env[`STABLERAIL_FAULT_${point}`];
  if (!marker || existsSync(marker)) return;
  const only = process.env.STABLERAIL_FAULT_SUBJECT;
  if (only && !subject.includes(only)) return;
  writeFileSync(marker, `${point} ${subject} ${new Date().toISOString()}\n`);
  process.kill(process.pid, 'SIGKILL');
}
