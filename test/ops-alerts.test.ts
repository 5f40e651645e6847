// The alert rules in ops/prometheus/alerts.yml: valid for Prometheus (`promtool check rules`),
// every metric and label they read present in a real scrape of the product's metrics (so a
// renamed metric cannot leave an alert silently empty), and each expression evaluated by
// `promtool test rules` on series shaped like that scrape: it fires on a bad value and stays
// quiet on a healthy one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { createMetrics } from '../api/metrics.js';
import { h } from './harness.js';

const RULES = resolve('ops/prometheus/alerts.yml');

interface Series { metric: string; labels: Record<string, string>; value: number }
interface Case { fire: Series[]; healthy: Series[]; expect: { labels: Record<string, string>; value: number } }

const s = (metric: string, labels: Record<string, string>, value: number): Series => ({ metric, labels, value });
/** Per alert: series that must fire it (with the sample the expression then yields) and series that must not. */
const CASES: Record<string, Case> = {
  StablerailChainLag: { fire: [s('stablerail_chain_lag_blocks', { rail: 'usdt-erc20' }, 500)], healthy: [s('stablerail_chain_lag_blocks', { rail: 'usdt-erc20' }, 2)], expect: { labels: { rail: 'usdt-erc20' }, value: 500 } },
  StablerailWatcherStalled: { fire: [s('stablerail_chain_seconds_since_progress', { rail: 'usdt-trc20' }, 900)], healthy: [s('stablerail_chain_seconds_since_progress', { rail: 'usdt-trc20' }, 4)], expect: { labels: { rail: 'usdt-trc20' }, value: 900 } },
  StablerailWebhookBacklog: { fire: [s('stablerail_webhook_deliveries_pending', {}, 5000)], healthy: [s('stablerail_webhook_deliveries_pending', {}, 12)], expect: { labels: {}, value: 5000 } },
  StablerailWebhookEndpointDisabled: {
    fire: [s('stablerail_webhook_endpoints', { environment: 'live', status: 'disabled' }, 2), s('stablerail_webhook_endpoints', { environment: 'live', status: 'enabled' }, 9)],
    healthy: [s('stablerail_webhook_endpoints', { environment: 'sandbox', status: 'disabled' }, 3), s('stablerail_webhook_endpoints', { environment: 'live', status: 'enabled' }, 9)],
    expect: { labels: { environment: 'live' }, value: 2 },
  },
  StablerailReconciliationBreaks: {
    fire: [s('stablerail_reconciliation_breaks_open', { environment: 'live', class: 'amount_mismatch' }, 1)],
    healthy: [s('stablerail_reconciliation_breaks_open', { environment: 'sandbox', class: 'amount_mismatch' }, 4)],
    expect: { labels: { environment: 'live', class: 'amount_mismatch' }, value: 1 },
  },
  StablerailPayoutStuck: {
    fire: [s('stablerail_payouts_oldest_in_status_seconds', { status: 'broadcast' }, 7200), s('stablerail_payouts_oldest_in_status_seconds', { status: 'signing' }, 0)],
    healthy: [s('stablerail_payouts_oldest_in_status_seconds', { status: 'broadcast' }, 40)],
    expect: { labels: { status: 'broadcast' }, value: 7200 },
  },
  StablerailEvidenceChainBroken: { fire: [s('stablerail_evidence_chain_broken', {}, 1)], healthy: [s('stablerail_evidence_chain_broken', {}, 0)], expect: { labels: {}, value: 1 } },
  StablerailTemporalUnavailable: { fire: [s('stablerail_temporal_up', { instance: 'a' }, 0), s('stablerail_temporal_up', { instance: 'b' }, 0)], healthy: [s('stablerail_temporal_up', { instance: 'a' }, 0), s('stablerail_temporal_up', { instance: 'b' }, 1)], expect: { labels: {}, value: 0 } },
  StablerailDatabaseFull: {
    fire: [s('stablerail_database_size_bytes', {}, 900e9), s('stablerail_database_budget_bytes', {}, 1000e9)],
    healthy: [s('stablerail_database_size_bytes', {}, 100e9), s('stablerail_database_budget_bytes', {}, 1000e9)],
    expect: { labels: {}, value: 0.9 },
  },
};

const promLabels = (l: Record<string, string>) => `{${Object.entries(l).map(([k, v]) => `${k}="${v}"`).join(',')}}`;

/** metric name -> label names seen on it, from Prometheus text exposition. */
function scrapeShape(text: string): Map<string, Set<string>> {
  const shape = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    // A gauge with no series yet (no open break in this database) still declares itself.
    const declared = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) /.exec(line);
    if (declared && !shape.has(declared[1]!)) shape.set(declared[1]!, new Set());
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s/.exec(line);
    if (!m) continue;
    const labels = shape.get(m[1]!) ?? new Set<string>();
    for (const pair of (m[3] ?? '').split(',').filter(Boolean)) labels.add(pair.split('=')[0]!);
    shape.set(m[1]!, labels);
  }
  return shape;
}

describe('alert rules (ops/prometheus/alerts.yml)', function () {
  this.timeout(120_000);
  const rules = (YAML.parse(readFileSync(RULES, 'utf8')).groups as Array<{ rules: Array<{ alert: string; expr: string }> }>).flatMap((g) => g.rules);

  it('promtool check rules accepts the file', () => {
    const r = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it('every alert has a runbook section in docs/operations.md and a case here', () => {
    const ops = readFileSync('docs/operations.md', 'utf8');
    for (const r of rules) {
      assert.ok(new RegExp(`^### ${r.alert}$`, 'm').test(ops), `runbook for ${r.alert}`);
      assert.ok(CASES[r.alert], `test case for ${r.alert}`);
    }
  });

  it('every metric and label an alert reads is in a real scrape, and each expression fires on a bad value and not on a healthy one', async () => {
    const { stack } = h();
    // A real scrape of the product's gauges over the suite's database and Temporal (the budget is the operator's setting).
    process.env.STABLERAIL_DATABASE_BUDGET_BYTES = String(50 * 2 ** 30);
    const metrics = createMetrics(stack.pool, { temporal: stack.client });
    delete process.env.STABLERAIL_DATABASE_BUDGET_BYTES;
    const text = await metrics.registry.metrics();
    assert.match(text, /^stablerail_temporal_up 1$/m, 'the suite\'s Temporal is up');
    assert.match(text, /^stablerail_evidence_chain_broken 0$/m);
    const shape = scrapeShape(text);
    for (const r of rules) {
      const c = CASES[r.alert]!;
      for (const name of r.expr.match(/stablerail_[a-z_]+/g) ?? []) assert.ok(shape.has(name), `${r.alert} reads ${name}, which the scrape has`);
      for (const series of [...c.fire, ...c.healthy]) {
        assert.ok(shape.has(series.metric), `${series.metric} is in the scrape`);
        // Label names can be checked where the scrape has series (`instance` is Prometheus's own).
        const seen = shape.get(series.metric)!;
        if (seen.size === 0) continue;
        for (const label of Object.keys(series.labels).filter((l) => l !== 'instance')) assert.ok(seen.has(label), `${series.metric} carries label ${label} in the scrape`);
      }
    }
    // promtool evaluates each expression on the crafted series.
    const tests = rules.flatMap((r) => {
      const c = CASES[r.alert]!;
      const series = (xs: Series[]) => xs.map((x) => ({ series: `${x.metric}${promLabels(x.labels)}`, values: `${x.value}x10` }));
      return [
        { interval: '1m', input_series: series(c.fire), promql_expr_test: [{ expr: r.expr, eval_time: '5m', exp_samples: [{ labels: promLabels(c.expect.labels), value: c.expect.value }] }] },
        { interval: '1m', input_series: series(c.healthy), promql_expr_test: [{ expr: r.expr, eval_time: '5m', exp_samples: [] }] },
      ];
    });
    const dir = mkdtempSync(join(tmpdir(), 'alerts-'));
    const testFile = join(dir, 'alerts.test.yml');
    writeFileSync(testFile, YAML.stringify({ rule_files: [RULES], evaluation_interval: '1m', tests }));
    const r = spawnSync('promtool', ['test', 'rules', testFile], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
  });
});
