// Per-key token buckets, in memory per API process: a burst allowance refilled at a steady
// rate. With N API processes a key's ceiling is N times the rate; that is documented.
// Two are kept: one per API key, and one per client address that runs before authentication
// (public views, payer pages and failed credentials spend it).
export const RATE_LIMIT_KEYS_MAX = 100_000;

export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perS: number,
    private readonly burst: number,
  ) {}

  /** The seconds to wait before take() would be allowed; 0 when it would. Takes nothing. */
  wait(key: string, nowMs = Date.now()): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.perS);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.perS));
  }

  /** Returns 0 when allowed, else the seconds to wait. */
  take(key: string, nowMs = Date.now()): number {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= RATE_LIMIT_KEYS_MAX) this.buckets.clear();
      b = { tokens: this.burst, at: nowMs };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.perS);
    b.at = nowMs;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perS));
  }
}
