// Prometheus metrics for /metrics: requests, latencies, workflow starts, payments by status,
// webhook endpoints by status and pending deliveries.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Pool } from '../activities/db.js';

export function createMetrics(pool: Pool) {
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
      const { rows } = await pool.query(`SELECT environment, status, count(*)::int AS n FROM payments GROUP BY 1, 2`);
      for (const r of rows) this.set({ environment: r.environment, status: r.status }, r.n);
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
      const { rows } = await pool.query(`SELECT environment, status, count(*)::int AS n FROM webhook_endpoints GROUP BY 1, 2`);
      for (const r of rows) this.set({ environment: r.environment, status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'stablerail_webhook_deliveries_pending',
    help: 'Webhook deliveries not yet succeeded nor given up (read from PostgreSQL at scrape time)',
    registers: [registry],
    async collect() {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'`);
      this.set(rows[0].n);
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
      const { rows } = await pool.query(`SELECT rail, code, count(*)::int AS n FROM chain_exceptions WHERE status = 'open' GROUP BY 1, 2`);
      for (const r of rows) this.set({ rail: r.rail, code: r.code }, r.n);
    },
  });
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
    const rows = pool
      .query(`SELECT rail, head_height::float8 AS head_height, processed_height::float8 AS processed_height, finalized_height::float8 AS finalized_height,
                     reorgs, extract(epoch FROM now() - updated_at)::float8 AS age_s FROM chain_cursors`)
      .then((r) => r.rows as ChainCursorMetricRow[]);
    cursorCache = { at: Date.now(), rows };
    rows.catch(() => { cursorCache = null; });
  }
  return cursorCache.rows;
}
