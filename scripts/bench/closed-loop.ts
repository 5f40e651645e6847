// The load shape several benchmarks share: `total` calls of fn, `concurrency` of them in flight
// (each worker takes the next index when its call ends), answering calls per second.
export async function callsPerSecond(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < total; i = next++) await fn(i);
  }));
  return total / ((performance.now() - t0) / 1000);
}
