// Where a rail's watcher starts the first time it runs. Payments may be created (and paid)
// before any chain worker exists, so a new rail cannot start at the node's head: it starts at
// the config's `start_height`, or at a block mined before the rail's oldest payment was made.

/** Block timestamps are the producer's clock: this much earlier covers skew between it and ours. */
export const FIRST_CURSOR_CLOCK_MARGIN_S = 3_600;

/**
 * The highest height in [0, head] whose block timestamp is at or before `targetS`, or 0 when
 * none is. Timestamps never decrease along a chain (Ethereum and TRON both enforce it), so a
 * binary search asks the node for about log2(head) blocks.
 */
export async function lastBlockAtOrBefore(timestampAt: (height: number) => Promise<number>, head: number, targetS: number): Promise<number> {
  if ((await timestampAt(head)) <= targetS) return head;
  let lo = 0; // invariant: answer is in [lo, hi) once lo's timestamp is at or before the target
  let hi = head;
  if ((await timestampAt(0)) > targetS) return 0;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if ((await timestampAt(mid)) <= targetS) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The height of the block a new cursor records as already processed (scanning resumes at the
 * next one): `start_height - 1` when configured; the last block before the oldest payment
 * (less the clock margin) when there is one; else the head, since nothing can have been paid yet.
 */
export async function firstCursorHeight(o: {
  startHeight: number | undefined;
  oldestPaymentAt: Date | null;
  head: number;
  timestampAt: (height: number) => Promise<number>;
}): Promise<number> {
  if (o.startHeight !== undefined) return Math.min(Math.max(0, o.startHeight - 1), o.head);
  if (!o.oldestPaymentAt) return o.head;
  const target = Math.floor(o.oldestPaymentAt.getTime() / 1000) - FIRST_CURSOR_CLOCK_MARGIN_S;
  return lastBlockAtOrBefore(o.timestampAt, o.head, target);
}
