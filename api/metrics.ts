// Prometheus metrics for /metrics: requests, latencies, workflow starts, payments by status,
// webhook endpoints by status and pending deliveries, chain cursors, reconciliation breaks,
// payouts in flight, the evidence chain, Temporal's reachability and the database's size. Each
// alert in ops/prometheus/alerts.yml is an expression over these (docs/operations.md).
import { chainCursorGauges, databaseBytes, endpointCounts, oldestPayoutAges, openBreaks, openChainExceptions, paymentCounts, pendingDeliveries } from '../activities/repositories/metrics.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Client } from '@temporalio/client';
import type { Pool } from '../activities/db.js';
import { verifyEvidence, type EvidenceCheckpoint } from '../activities/evidence.js';

/** How often a scrape re-verifies the whole evidence chain; between, only new entries are checked. */
export const EVIDENCE_FULL_VERIFY_MS = 3_600_000;
/** Payout statuses in which nobody waits for a person: time spent in them is the machine's. */
const PAYOUT_MACHINE_STATUSES = ['approved', 'signing', 'broadcast'];
const TEMPORAL_PROBE_MS = 2_000;

export function createMetrics(pool: Pool, opts: { temporal?: Client } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({ name: 'stablerail_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'] as const, registers: [registry] });
  const httpLatency = new Histogram({
    name: 'stablerail_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const workflowStarts = new Counter({ name: 'stablerail_workflow_starts_total', help: 'Workflows started by the API', labelNames: ['workflow', 'result'] as const, registers: [registry] });
  new Gauge({
    name: 'stablerail_payments',
    help: 'Payments by environment and status (read from PostgreSQL at scrape time)',
    labelNames: ['environment', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await paymentCounts(pool)) this.set({ environment: r.environment, status: r.status }, r.n);
    },
  });
  // Operators alert on disabled endpoints (410 or three days of failures) and on a growing backlog.
  new Gauge({
    name: 'stablerail_webhook_endpoints',
    help: 'Webhook endpoints by environment and status (read from PostgreSQL at scrape time)',
    labelNames: ['environment', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await endpointCounts(pool)) this.set({ environment: r.environment, status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'stablerail_webhook_deliveries_pending',
    help: 'Webhook deliveries not yet succeeded nor given up (read from PostgreSQL at scrape time)',
    registers: [registry],
    async collect() {
      this.set(await pendingDeliveries(pool));
    },
  });
  // Per rail, from the watcher's cursor row at scrape time: any API process reports the same truth.
  const railGauge = (name: string, help: string, pick: (r: ChainCursorMetricRow) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['rail'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const r of await chainCursorRows(pool)) this.set({ rail: r.rail }, pick(r));
      },
    });
  railGauge('stablerail_chain_head_height', 'Latest block height the rail\'s node reported to the watcher', (r) => r.head_height);
  railGauge('stablerail_chain_processed_height', 'Highest block the watcher has processed (hash-linked)', (r) => r.processed_height);
  railGauge('stablerail_chain_lag_blocks', 'Blocks between the node\'s head and the watcher\'s processed height', (r) => Math.max(0, r.head_height - r.processed_height));
  railGauge('stablerail_chain_finalized_height', 'Highest block the watcher treats as final', (r) => r.finalized_height);
  railGauge('stablerail_chain_reorgs', 'Reorgs the watcher has rolled back', (r) => r.reorgs);
  railGauge('stablerail_chain_seconds_since_progress', 'Seconds since the watcher last wrote its cursor', (r) => r.age_s);
  new Gauge({
    name: 'stablerail_chain_exceptions_open',
    help: 'Open chain exceptions (unmatched transfers) by rail and code',
    labelNames: ['rail', 'code'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await openChainExceptions(pool)) this.set({ rail: r.rail, code: r.code }, r.n);
    },
  });
  new Gauge({
    name: 'stablerail_reconciliation_breaks_open',
    help: 'Open reconciliation breaks by environment and class (read from PostgreSQL at scrape time)',
    labelNames: ['environment', 'class'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await openBreaks(pool)) this.set({ environment: r.environment, class: r.class }, r.n);
    },
  });
  new Gauge({
    name: 'stablerail_payouts_oldest_in_status_seconds',
    help: 'Age of the oldest payout in each status no person is waited for (approved, signing, broadcast)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const st of PAYOUT_MACHINE_STATUSES) this.set({ status: st }, 0);
      for (const r of await oldestPayoutAges(pool, PAYOUT_MACHINE_STATUSES)) this.set({ status: r.status }, r.age_s ?? 0);
    },
  });
  // The evidence chain: new entries verified at every scrape, the whole chain once an hour (an
  // edit to an old entry is found within the hour; `stablerail evidence verify` finds it at once).
  let evidence: { checkpoint: EvidenceCheckpoint | undefined; fullAt: number; broken: boolean; checked: number } = { checkpoint: undefined, fullAt: 0, broken: false, checked: 0 };
  const evidenceBroken = new Gauge({ name: 'stablerail_evidence_chain_broken', help: '1 when the evidence hash chain failed verification, else 0', registers: [registry] });
  new Gauge({
    name: 'stablerail_evidence_entries_verified',
    help: 'Evidence entries verified in the current pass of the chain',
    registers: [registry],
    async collect() {
      const full = Date.now() - evidence.fullAt > EVIDENCE_FULL_VERIFY_MS;
      const r = await verifyEvidence(pool, undefined, full ? undefined : evidence.checkpoint);
      evidence = {
        checkpoint: r.ok && r.nextSeq ? { nextSeq: r.nextSeq, prevHash: r.headHash } : evidence.checkpoint,
        fullAt: full ? Date.now() : evidence.fullAt,
        broken: !r.ok || (evidence.broken && !full),
        checked: full ? r.checked : evidence.checked + r.checked,
      };
      evidenceBroken.set(evidence.broken ? 1 : 0);
      this.set(evidence.checked);
    },
  });
  if (opts.temporal) {
    const temporal = opts.temporal;
    new Gauge({
      name: 'stablerail_temporal_up',
      help: '1 when this process reached the Temporal frontend at scrape time (GetSystemInfo within 2 s), else 0',
      registers: [registry],
      async collect() {
        const ok = await temporal.connection
          .withDeadline(Date.now() + TEMPORAL_PROBE_MS, () => temporal.connection.workflowService.getSystemInfo({}))
          .then(() => 1, () => 0);
        this.set(ok);
      },
    });
  }
  new Gauge({
    name: 'stablerail_database_size_bytes',
    help: 'Size of the product database on disk (pg_database_size)',
    registers: [registry],
    async collect() {
      this.set(await databaseBytes(pool));
    },
  });
  // What the database may grow to (its volume, less room for WAL and vacuum): set by the operator.
  const budget = Number(process.env.STABLERAIL_DATABASE_BUDGET_BYTES ?? 0);
  if (budget > 0) new Gauge({ name: 'stablerail_database_budget_bytes', help: 'STABLERAIL_DATABASE_BUDGET_BYTES: the size the database must stay under', registers: [registry] }).set(budget);
  return { registry, httpRequests, httpLatency, workflowStarts };
}
export type Metrics = ReturnType<typeof createMetrics>;

interface ChainCursorMetricRow {
  rail: string;
  head_height: number;
  processed_height: number;
  finalized_height: number;
  reorgs: number;
  age_s: number;
}

/** One read per scrape for all rail gauges (each gauge's collect asks; the answer is cached briefly). */
let cursorCache: { at: number; rows: Promise<ChainCursorMetricRow[]> } | null = null;
const CURSOR_CACHE_MS = 500;
function chainCursorRows(pool: Pool): Promise<ChainCursorMetricRow[]> {
  if (!cursorCache || Date.now() - cursorCache.at > CURSOR_CACHE_MS) {
    const rows = chainCursorGauges(pool) as Promise<ChainCursorMetricRow[]>;
    cursorCache = { at: Date.now(), rows };
    rows.catch(() => { cursorCache = null; });
  }
  return cursorCache.rows;
}
