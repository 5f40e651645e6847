// Heartbeats for activities that wait on one long call (an HTTP attempt, a set-based SQL
// statement): Temporal notices a worker that died mid-call at the heartbeat timeout, seconds,
// instead of at the start-to-close timeout, minutes. Outside an activity (scripts, tests) these
// are plain calls.
import { Context } from '@temporalio/activity';

/** The running activity's context, or null outside one. */
function currentActivity(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/** Heartbeat now, with progress details, when running as an activity. */
export function heartbeatIfActivity(details?: unknown): void {
  currentActivity()?.heartbeat(details);
}

/** Heartbeat every `intervalMs` while `work` runs (and once at its start). */
export async function heartbeating<T>(work: Promise<T>, intervalMs: number): Promise<T> {
  const ctx = currentActivity();
  if (!ctx) return work;
  const beat = () => ctx.heartbeat();
  beat();
  const timer = setInterval(beat, intervalMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
