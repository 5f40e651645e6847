// Payments created over HTTP (with Idempotency-Key) against the embedded defaults, beside
// two ceilings measured in the same run: bare workflow starts on the same Temporal server and
// raw single-row inserts on the same PostgreSQL.
import { mkdtempSync, chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir, cpus } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { parseConfig } from '../../activities/config.js';
import { createApiKey, createMerchant, SCOPES } from '../../activities/merchant.js';
import { createLogger } from '../../api/logger.js';
import { devnetRails } from '../devnet-rails.js';
import { startStack } from '../stack.js';
import { temporalTarget } from './temporal-target.js';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { CREATION_WORKER_TUNING, installWorkerRuntime } from '../../workers/runtime.js';
import { trivialCreateUpdate, type trivialCreateWorkflow } from './workflows/trivial.js';

const TRIVIAL_QUEUE = 'bench-trivial';

const REQUESTS_PER_LEVEL = Number(process.env.BENCH_REQUESTS ?? 600);
const LEVELS = (process.env.BENCH_LEVELS ?? '1,8,32').split(',').map(Number);
/** Alternating rounds of the trivial Update-with-Start and payments for the ratio. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const BENCH_MNEMONIC = 'test test test test test test test test test test test junk';

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/**
 * CPU ms per thread name of this process (Linux /proc; empty elsewhere): splits a call's CPU
 * between the main thread (HTTP, API, activities, Temporal client), the workflow threads and the
 * SDK Core's threads, which process.cpuUsage() sums.
 */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const comm = tid === String(process.pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) + (process.env.BENCH_TIDS ? `:${tid}` : '');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in USER_HZ (100)
      out.set(comm, (out.get(comm) ?? 0) + ms);
    }
  } catch { /* not Linux */ }
  return out;
}

/**
 * CPU ms of this process's descendants (the Temporal dev server, PostgreSQL's postmaster and
 * backends), summed by command name (Linux /proc; empty elsewhere): the rest of the machine's
 * CPU a call costs, which this process's own figures leave out. With the real Temporal server
 * (`--temporal-server`) it is a separate process tree and is not counted.
 */
function childrenCpu(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const procs: { pid: string; ppid: string; comm: string; ms: number }[] = [];
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        procs.push({ pid, ppid: f[1]!, comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ms: ((Number(f[11]) + Number(f[12])) * 1000) / 100 });
      } catch { /* exited while listed */ }
    }
    const below = new Set([String(process.pid)]);
    for (let grew = true; grew;) {
      grew = false;
      for (const p of procs) if (!below.has(p.pid) && below.has(p.ppid)) { below.add(p.pid); grew = true; }
    }
    for (const p of procs) if (p.pid !== String(process.pid) && below.has(p.pid)) out.set(p.comm, (out.get(p.comm) ?? 0) + p.ms);
  } catch { /* not Linux */ }
  return out;
}

const totalMsPerCall = (ms: Map<string, number>, calls: number): number => [...ms.values()].reduce((sum, v) => sum + v, 0) / calls;

/** CPU ms by thread (or process) name, spent over `calls` calls, as one line per call. */
function cpuPerCall(ms: Map<string, number>, calls: number): string {
  return [...ms].map(([k, v]) => [k, v / calls] as const)
    .filter(([, v]) => v >= 0.05).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Run `total` calls of fn with `concurrency` in flight; answer ops/s, latency percentiles (ms) and
 * this process's CPU per call (ms, every thread: API, worker, client), which the machine's other
 * load inflates far less than it does the rates.
 */
async function closedLoop(total: number, concurrency: number, fn: (i: number) => Promise<void>) {
  const lat: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const s = performance.now();
        await fn(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  return { perS: total / secs, p50: pct(lat, 50), p99: pct(lat, 99), cpuMs: (cpu.user + cpu.system) / 1000 / total };
}

type Loop = Awaited<ReturnType<typeof closedLoop>>;
/** A closed loop with the CPU its calls cost by thread of this process and in the servers it started. */
interface Measured extends Loop {
  threads: Map<string, number>;
  servers: Map<string, number>;
}

function diffMap(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([k, v]) => [k, Math.max(0, v - (before.get(k) ?? 0))]));
}

function sumMaps(maps: Map<string, number>[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of maps) for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v);
  return out;
}

async function measured(run: () => Promise<Loop>): Promise<Measured> {
  const t0 = threadCpu();
  const s0 = childrenCpu();
  const loop = await run();
  return { ...loop, threads: diffMap(t0, threadCpu()), servers: diffMap(s0, childrenCpu()) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Each figure's median over the rounds (rate, latencies, CPU per call). */
function medianOf(rounds: Loop[]): Loop {
  return { perS: median(rounds.map((r) => r.perS)), p50: median(rounds.map((r) => r.p50)), p99: median(rounds.map((r) => r.p99)), cpuMs: median(rounds.map((r) => r.cpuMs)) };
}

/** Open loop: issue at a fixed rate regardless of answers, so queueing shows in the latencies. */
async function openLoop(ratePerS: number, seconds: number, fn: (i: number) => Promise<void>) {
  const total = Math.round(ratePerS * seconds);
  const lat: number[] = [];
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / ratePerS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const s = performance.now();
    inflight.push(fn(i).then(() => void lat.push(performance.now() - s)));
  }
  await Promise.all(inflight);
  lat.sort((a, b) => a - b);
  return { perS: total / ((performance.now() - t0) / 1000), p50: pct(lat, 50), p99: pct(lat, 99) };
}

/** BENCH_PROFILE=file.cpuprofile: the main thread's CPU profile of the measured payments (open it in Chrome DevTools). */
async function mainThreadProfile(file: string | undefined): Promise<{ stop(): Promise<void> }> {
  if (!file) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

export async function main(argv: string[]): Promise<void> {
  // The merchant's side of the HTTP hop runs in this process: undici's request() rather than
  // fetch(), whose WHATWG streams made a call to a minimal server cost 0.58-0.94 ms of this
  // process's CPU against 0.18-0.23 ms (docs/benchmarks.md, payments, 2026-12-03 afternoon):
  // CPU the product would otherwise lose to the load generator.
  const dispatcher = new Agent({ connections: 128, pipelining: 1 });
  const root = mkdtempSync(join(tmpdir(), 'stablerail-bench-'));
  chmodSync(root, 0o755);
  const config = parseConfig(
    { base_url: 'http://127.0.0.1', rails: devnetRails({ mnemonic: BENCH_MNEMONIC, evmRpcUrl: 'http://127.0.0.1:8545', tronRpcUrl: 'http://127.0.0.1:8546' }), rate_limit: { per_s: 1e6, burst: 1e6 } },
    { base_url: 'http://127.0.0.1' },
  );
  const logger = createLogger(undefined, 'warn');
  const target = await temporalTarget(argv, root);
  // Durable like `npm start`: fsync on, Temporal persisting to its SQLite file (or the real server's PostgreSQL).
  const stack = await startStack({ dataDir: join(root, 'data'), config, apiPort: 0, temporalPort: 17233, logger, masterKey: randomBytes(32), chainWorkers: 0, watchers: false }).catch(async (err) => {
    await target.stop();
    throw err;
  });
  try {
    const m = await createMerchant(stack.pool, config, 'bench', 'bench');
    const key = (await createApiKey(stack.pool, m.id, 'sandbox', [...SCOPES], 'bench')).secret;
    const body = (i: number, tag: string) => JSON.stringify({ amount: '10.00', rail: 'usdt-erc20', reference: `${tag}-${i}` });
    const createPayment = (tag: string) => async (i: number) => {
      const r = await request(`${stack.apiUrl}/v1/payments`, {
        dispatcher,
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': `${tag}-${i}` },
        body: body(i, tag),
      });
      if (r.statusCode !== 201) throw new Error(`HTTP ${r.statusCode}: ${await r.body.text()}`);
      await r.body.arrayBuffer();
    };

    // Warm up: JIT, connection pools, the workflow cache.
    await closedLoop(100, 8, createPayment('warm'));

    // Ceiling 1: bare workflow starts (a workflow type no worker polls, so only the start is measured).
    const bare = await closedLoop(REQUESTS_PER_LEVEL, 32, async (i) => {
      await stack.client.workflow.start('emptyWorkflow', { taskQueue: 'bench-no-worker', workflowId: `bench-bare-${i}-${Date.now()}`, args: [] });
    });
    // Ceiling 2: Update-with-Start of a trivial workflow whose create Update answers at once, on a
    // worker in this process with the payment worker's settings: what the engine allows for the
    // creation path before Stablerail's own work (validation, the row, the HTTP hop).
    installWorkerRuntime();
    const trivialWorker = await Worker.create({
      connection: stack.nativeConnection, namespace: config.temporal.namespace, taskQueue: TRIVIAL_QUEUE,
      workflowsPath: fileURLToPath(new URL('./workflows/trivial.ts', import.meta.url)),
      ...CREATION_WORKER_TUNING,
    });
    const trivialRunning = trivialWorker.run();
    const uwsOnce = (tag: string) => async (i: number) => {
      const id = `bench-uws-${tag}-${i}-${Date.now()}`;
      const start = new WithStartWorkflowOperation<typeof trivialCreateWorkflow>('trivialCreateWorkflow', { taskQueue: TRIVIAL_QUEUE, workflowId: id, workflowIdConflictPolicy: 'USE_EXISTING', args: [] });
      await stack.client.workflow.executeUpdateWithStart(trivialCreateUpdate, { args: [id], updateId: `create-${id}`, startWorkflowOperation: start });
    };
    await closedLoop(100, 8, uwsOnce('warm'));

    // Ceiling 3: raw single-row inserts, each its own transaction with a durable commit.
    await stack.pool.query('CREATE TABLE IF NOT EXISTS bench_rows (id text PRIMARY KEY, amount numeric(78,0) NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
    const inserts = await closedLoop(REQUESTS_PER_LEVEL * 2, 32, async (i) => {
      await stack.pool.query('INSERT INTO bench_rows (id, amount) VALUES ($1, $2)', [`r-${i}-${Date.now()}`, '10000000']);
    });

    const rows: string[] = [];
    for (const c of LEVELS) {
      const r = await closedLoop(REQUESTS_PER_LEVEL, c, createPayment(`c${c}`));
      rows.push(`| ${c} | ${r.perS.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.perS / bare.perS).toFixed(2)} |`);
    }
    // The ratio: the trivial Update-with-Start and payments at 32 in flight, measured in
    // alternating rounds, so a slow spell of a shared machine falls on both sides of a round
    // rather than on one figure; each side's figures are its medians over the rounds.
    const uwsRounds: Measured[] = [];
    const payRounds: Measured[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      uwsRounds.push(await measured(() => closedLoop(REQUESTS_PER_LEVEL, 32, uwsOnce(`c32r${r}`))));
      // BENCH_PROFILE: the first round's payments only.
      const profile = await mainThreadProfile(r === 0 ? process.env.BENCH_PROFILE : undefined);
      payRounds.push(await measured(() => closedLoop(REQUESTS_PER_LEVEL, 32, createPayment(`ratio32r${r}`))));
      await profile.stop();
    }
    const uws = medianOf(uwsRounds);
    const pay32 = medianOf(payRounds);
    const roundRatios = payRounds.map((p, r) => p.perS / uwsRounds[r]!.perS);
    const calls = REQUESTS_PER_LEVEL * ROUNDS;
    const uwsThreads = cpuPerCall(sumMaps(uwsRounds.map((m) => m.threads)), calls);
    const payThreads = cpuPerCall(sumMaps(payRounds.map((m) => m.threads)), calls);
    const uwsServers = sumMaps(uwsRounds.map((m) => m.servers));
    const payServers = sumMaps(payRounds.map((m) => m.servers));
    const uwsChildren = cpuPerCall(uwsServers, calls);
    const payChildren = cpuPerCall(payServers, calls);
    // Latency under a steady load: half the Update-with-Start ceiling, for the ceiling and for payments.
    const halfRate = Math.max(1, Math.floor(uws.perS / 2));
    const uwsOpen = await openLoop(halfRate, 5, uwsOnce('open'));
    const open = await openLoop(halfRate, 5, createPayment('open'));
    trivialWorker.shutdown();
    await trivialRunning;
    const ratio = median(roundRatios);
    // What bounds each side: the share of the machine's cores a round kept busy (this process's
    // threads plus the servers it started, per call, times calls per second). A side near 1 is
    // CPU-bound; one well under it waits on something else (on the dev server, SQLite's fsyncs).
    const busy = (m: Measured) => (totalMsPerCall(sumMaps([m.threads, m.servers]), REQUESTS_PER_LEVEL) * m.perS) / 1000 / cpus().length;
    const payBusy = median(payRounds.map(busy));
    const uwsBusy = median(uwsRounds.map(busy));

    console.log(`
## payments (npm run bench -- payments)

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; embedded PostgreSQL (fsync on) and ${target.label}, API and one worker in one process.

Ceilings measured in the same run:
- bare workflow starts (32 in flight): ${bare.perS.toFixed(0)}/s (p50 ${bare.p50.toFixed(1)} ms, p99 ${bare.p99.toFixed(1)} ms)
- Update-with-Start of a trivial workflow (32 in flight, median of ${ROUNDS} rounds): ${uws.perS.toFixed(0)}/s (p50 ${uws.p50.toFixed(1)} ms, p99 ${uws.p99.toFixed(1)} ms), ${uws.cpuMs.toFixed(1)} ms of this process's CPU each
- raw single-row inserts (32 in flight): ${inserts.perS.toFixed(0)}/s (p50 ${inserts.p50.toFixed(1)} ms, p99 ${inserts.p99.toFixed(1)} ms)

| concurrency | payments/s | p50 ms | p99 ms | ratio to bare starts |
|---|---|---|---|---|
${rows.join('\n')}

At 32 in flight again, for the ratio, ${ROUNDS} rounds alternating with the ceiling (per round: ${roundRatios.map((x) => x.toFixed(2)).join(', ')}): median ${pay32.perS.toFixed(0)} payments/s, median ratio ${ratio.toFixed(2)}x the Update-with-Start ceiling; ${pay32.cpuMs.toFixed(1)} ms of this process's CPU per payment (HTTP client, API and worker) against ${uws.cpuMs.toFixed(1)} ms per trivial Update-with-Start.
CPU ms per call by thread: payment ${payThreads || 'n/a'}; trivial Update-with-Start ${uwsThreads || 'n/a'}.
CPU ms per call in the servers this process started: payment ${payChildren || 'n/a'}; trivial Update-with-Start ${uwsChildren || 'n/a'}.
Share of the ${cpus().length} cores kept busy (median of the rounds; this process and the servers it started): payments ${(100 * payBusy).toFixed(0)}%, trivial Update-with-Start ${(100 * uwsBusy).toFixed(0)}%${argv.includes('--temporal-server') ? ' (the real server runs in its own process tree and is not counted)' : ''}.

Open loop at half the Update-with-Start ceiling (${halfRate}/s for 5 s):
- trivial Update-with-Start: achieved ${uwsOpen.perS.toFixed(0)}/s, p50 ${uwsOpen.p50.toFixed(1)} ms, p99 ${uwsOpen.p99.toFixed(1)} ms
- payments over HTTP: achieved ${open.perS.toFixed(0)}/s, p50 ${open.p50.toFixed(1)} ms, p99 ${open.p99.toFixed(1)} ms (${(open.p99 / uwsOpen.p99).toFixed(2)}x the ceiling's p99)
`);
    // The last line: one JSON object with the figures and their ratios (DESIGN.md).
    console.log(JSON.stringify({
      bench: 'payments',
      temporal: target.label,
      payments_per_s: round(pay32.perS),
      bare_starts_per_s: round(bare.perS),
      update_with_start_per_s: round(uws.perS),
      ratio: round(ratio, 2),
      p99_ms: round(open.p99),
      update_with_start_p99_ms: round(uwsOpen.p99),
      p99_ratio: round(open.p99 / uwsOpen.p99, 2),
      half_rate_per_s: halfRate,
      inserts_per_s: round(inserts.perS),
      cpu_ms_per_payment: round(pay32.cpuMs),
      cpu_ms_per_update_with_start: round(uws.cpuMs),
      server_cpu_ms_per_payment: round(totalMsPerCall(payServers, calls)),
      server_cpu_ms_per_update_with_start: round(totalMsPerCall(uwsServers, calls)),
      rounds: ROUNDS,
      round_ratios: roundRatios.map((x) => round(x, 2)),
      cores_busy_payments: round(payBusy, 2),
      cores_busy_update_with_start: round(uwsBusy, 2),
    }));
  } finally {
    await dispatcher.close();
    await stack.stop();
    await target.stop();
  }
}
