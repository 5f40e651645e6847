// The webhook retry schedule, one pure module read by the delivery workflow, the API's
// next_attempt_at and the tests. About three days in all; then the endpoint is disabled.
const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;

/** Delay before attempt n+1 (index n): immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const RETRY_DELAYS_MS: readonly number[] = [0, 5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 24 * H];
export const ATTEMPTS_MAX = RETRY_DELAYS_MS.length;
/** Each delay moves by up to ±10 %, so endpoints that failed together do not retry together. */
export const JITTER_FRACTION = 0.1;
/** A Retry-After is honoured up to this much; beyond it we would rather keep our own schedule. */
export const RETRY_AFTER_MS_MAX = 24 * H;
export const RETRY_AFTER_MS_MIN = 1 * S;

/** Delay before attempt `attempt` (1-based). rand is in [0, 1): the workflow's deterministic Math.random. */
export function delayBeforeAttemptMs(attempt: number, rand: number): number {
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > ATTEMPTS_MAX) throw new RangeError(`attempt ${attempt} is outside 1..${ATTEMPTS_MAX}`);
  const base = RETRY_DELAYS_MS[attempt - 1]!;
  if (rand < 0 || rand >= 1) throw new RangeError('rand must be in [0, 1)');
  return Math.round(base * (1 - JITTER_FRACTION + 2 * JITTER_FRACTION * rand));
}

/**
 * The delay before the next attempt: the receiver's Retry-After when it sent one (bounded),
 * otherwise the schedule's. undefined when no attempt is left.
 */
export function nextDelayMs(attemptJustMade: number, rand: number, retryAfterMs: number | null): number | undefined {
  if (attemptJustMade >= ATTEMPTS_MAX) return undefined;
  if (retryAfterMs !== null) return Math.min(Math.max(retryAfterMs, RETRY_AFTER_MS_MIN), RETRY_AFTER_MS_MAX);
  return delayBeforeAttemptMs(attemptJustMade + 1, rand);
}

/** Parse Retry-After (delta-seconds or an HTTP date) into milliseconds from nowMs; null when absent or unreadable. */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^[0-9]{1,9}$/.test(v)) return Number(v) * S;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(at - nowMs, 0);
}

/** The whole schedule without jitter, for documentation and tests. */
export const SCHEDULE_TOTAL_MS = RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
