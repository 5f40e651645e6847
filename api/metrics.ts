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
  return { registry, httpRequests, httpLatency, workflowStarts };
}
export type Metrics = ReturnType<typeof createMetrics>;
