// Three-plane reconciliation in bulk SQL: one statement per break class matches commerce
// (orders), provider (chain transfers and payments) and finance (ledger) truth and upserts
// what disagrees by fingerprint. A break keeps its id across runs; a resolved one never comes
// back; one whose cause went away is cleared; a new one appears once.
import { Context } from '@temporalio/activity';
import { paymentReconciledUpdate } from '../workflows/shared.js';
import type { Pool } from './db.js';
import { withTx } from './db.js';
import { decimalsOfAsset, type StablerailConfig } from './config.js';
import { appendEvidence } from './evidence.js';
import { newId } from './ids.js';
import { toCsv } from './ledger.js';
import { formatAmount } from '../workflows/rules/money.js';
import { BREAK_CLASSES_IN_ORDER } from '../workflows/shared.js';

export const BREAK_CLASSES = BREAK_CLASSES_IN_ORDER;
export type BreakClass = (typeof BREAK_CLASSES)[number];

/** Work in flight (a confirmation whose posting activity is running) is not a break yet. */
export const SETTLE_GRACE_S_DEFAULT = 30;
/** Matched payments signalled per run; the rest are picked up by the next run. */
export const RECONCILED_SIGNALS_PER_RUN_MAX = 5_000;
/** Updates in flight at once while acknowledging a run's matched payments. */
export const ACKNOWLEDGE_CONCURRENCY = 16;

const UNREVERSED = `NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = e.id)`;
const SCOPE_P = `p.environment = $2 AND ($3::text IS NULL OR p.merchant_id = $3)`;
const SETTLED_P = `p.updated_at < now() - make_interval(secs => $4)`;

/**
 * Each class selects: fingerprint, merchant_id, order_reference, payment_id, tx_hash, log_index,
 * entry_id, asset, expected_minor, actual_minor. Drift is actual minus expected. Parameters:
 * $1 run id, $2 environment, $3 merchant id or null, $4 grace seconds, $5 rail ids, $6 their assets.
 */
const CLASS_SQL: Record<BreakClass, string> = {
  // Commerce says there is an order; no payment settled it (fulfilled orders), or none exists at all.
  order_without_payment: `
    SELECT 'order_without_payment:' || o.merchant_id || ':' || o.environment || ':' || o.reference, o.merchant_id, o.reference, NULL::text, NULL::text, NULL::int, NULL::text,
           o.asset, o.amount_minor, 0::numeric
      FROM orders o
     WHERE o.environment = $2 AND ($3::text IS NULL OR o.merchant_id = $3) AND o.status <> 'canceled'
       AND o.updated_at < now() - make_interval(secs => $4)
       AND NOT EXISTS (SELECT 1 FROM payments p WHERE (p.merchant_id, p.environment, p.reference) = (o.merchant_id, o.environment, o.reference) AND p.status IN ('confirmed', 'recognized'))
       AND (o.status = 'fulfilled' OR NOT EXISTS (SELECT 1 FROM payments p WHERE (p.merchant_id, p.environment, p.reference) = (o.merchant_id, o.environment, o.reference)))`,
  // Money settled for a reference commerce does not know (only for merchants that send orders).
  payment_without_order: `
    SELECT 'payment_without_order:' || p.id, p.merchant_id, p.reference, p.id, NULL, NULL, NULL, p.asset, 0::numeric, p.amount_received_minor
      FROM payments p
     WHERE ${SCOPE_P} AND ${SETTLED_P} AND p.status IN ('confirmed', 'recognized')
       AND EXISTS (SELECT 1 FROM orders o2 WHERE o2.merchant_id = p.merchant_id AND o2.environment = p.environment)
       AND NOT EXISTS (SELECT 1 FROM orders o WHERE (o.merchant_id, o.environment, o.reference) = (p.merchant_id, p.environment, p.reference))`,
  amount_mismatch: `
    SELECT 'amount_mismatch:' || p.id, p.merchant_id, p.reference, p.id, NULL, NULL, NULL, p.asset, o.amount_minor, p.amount_received_minor
      FROM payments p JOIN orders o ON (o.merchant_id, o.environment, o.reference) = (p.merchant_id, p.environment, p.reference)
     WHERE ${SCOPE_P} AND ${SETTLED_P} AND p.status IN ('confirmed', 'recognized') AND o.status <> 'canceled'
       AND (o.amount_minor <> p.amount_received_minor OR o.asset <> p.asset)`,
  // On chain, to one of our addresses, and no payment claims it (operator-wide runs only).
  transfer_without_payment: `
    SELECT 'transfer_without_payment:' || t.rail || ':' || lower(t.tx_hash) || ':' || t.log_index, NULL, NULL, NULL, t.tx_hash, t.log_index, NULL, r.asset, 0::numeric, t.amount_minor
      FROM chain_transfers t JOIN unnest($5::text[], $6::text[]) AS r(rail, asset) ON r.rail = t.rail
     WHERE $3::text IS NULL AND t.removed_at IS NULL AND t.payment_id IS NULL AND t.updated_at < now() - make_interval(secs => $4)`,
  confirmed_without_posting: `
    SELECT 'confirmed_without_posting:' || p.id || ':' || lower(t.tx_hash) || ':' || t.log_index, p.merchant_id, p.reference, p.id, t.tx_hash, t.log_index, NULL, p.asset, t.amount_minor, 0::numeric
      FROM payments p JOIN chain_transfers t ON t.payment_id = p.id AND t.removed_at IS NULL
     WHERE ${SCOPE_P} AND ${SETTLED_P} AND p.status IN ('confirmed', 'recognized')
       AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.payment_id = p.id AND e.gate = 'confirmed' AND lower(e.tx_hash) = lower(t.tx_hash) AND e.log_index = t.log_index AND ${UNREVERSED})`,
  recognized_without_posting: `
    SELECT 'recognized_without_posting:' || p.id || ':' || lower(t.tx_hash) || ':' || t.log_index, p.merchant_id, p.reference, p.id, t.tx_hash, t.log_index, NULL, p.asset, t.amount_minor, 0::numeric
      FROM payments p JOIN chain_transfers t ON t.payment_id = p.id AND t.removed_at IS NULL
     WHERE ${SCOPE_P} AND ${SETTLED_P} AND p.status = 'recognized'
       AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.payment_id = p.id AND e.gate = 'recognized' AND lower(e.tx_hash) = lower(t.tx_hash) AND e.log_index = t.log_index AND ${UNREVERSED})`,
  // Finance holds money for a transfer the chain never showed us.
  posting_without_transfer: `
    SELECT 'posting_without_transfer:' || e.id, e.merchant_id, p.reference, e.payment_id, e.tx_hash, e.log_index, e.id, l.asset, 0::numeric, l.amount_minor
      FROM ledger_entries e
      JOIN ledger_lines l ON l.entry_id = e.id AND l.amount_minor > 0
      LEFT JOIN payments p ON p.id = e.payment_id
     WHERE e.environment = $2 AND ($3::text IS NULL OR e.merchant_id = $3) AND e.gate = 'confirmed' AND ${UNREVERSED}
       AND e.effective_at < now() - make_interval(secs => $4)
       AND NOT EXISTS (SELECT 1 FROM chain_transfers t WHERE t.rail = e.rail AND lower(t.tx_hash) = lower(e.tx_hash) AND t.log_index = e.log_index)`,
  // Finance still holds money for a transfer a reorg removed.
  reorged_with_posting: `
    SELECT 'reorged_with_posting:' || e.id, e.merchant_id, p.reference, e.payment_id, e.tx_hash, e.log_index, e.id, l.asset, 0::numeric, l.amount_minor
      FROM ledger_entries e
      JOIN ledger_lines l ON l.entry_id = e.id AND l.amount_minor > 0
      JOIN chain_transfers t ON t.rail = e.rail AND lower(t.tx_hash) = lower(e.tx_hash) AND t.log_index = e.log_index AND t.removed_at IS NOT NULL
      LEFT JOIN payments p ON p.id = e.payment_id
     WHERE e.environment = $2 AND ($3::text IS NULL OR e.merchant_id = $3) AND e.gate IN ('confirmed', 'recognized') AND ${UNREVERSED}
       AND t.removed_at < now() - make_interval(secs => $4)`,
  // We booked a payout (or refund) as paid; the chain shows no such transfer leaving the treasury.
  payout_without_transfer: `
    SELECT 'payout_without_transfer:' || po.id, po.merchant_id, po.reference, po.payment_id, po.tx_hash, NULL::int, NULL::text, po.asset, po.amount_minor, 0::numeric
      FROM payouts po
     WHERE po.environment = $2 AND ($3::text IS NULL OR po.merchant_id = $3) AND po.status IN ('confirmed', 'settled')
       AND po.updated_at < now() - make_interval(secs => $4)
       AND NOT EXISTS (SELECT 1 FROM treasury_transfers t WHERE t.rail = po.rail AND lower(t.tx_hash) = lower(po.tx_hash) AND t.removed_at IS NULL
                         AND t.to_address = po.destination_address AND t.amount_minor = po.amount_minor)`,
  // Money left a treasury wallet and no payout, refund or sweep of ours sent it (operator-wide runs only).
  transfer_without_payout: `
    SELECT 'transfer_without_payout:' || t.rail || ':' || lower(t.tx_hash) || ':' || t.log_index, NULL, NULL, NULL, t.tx_hash, t.log_index, NULL, r.asset, 0::numeric, t.amount_minor
      FROM treasury_transfers t JOIN unnest($5::text[], $6::text[]) AS r(rail, asset) ON r.rail = t.rail
     WHERE $3::text IS NULL AND t.removed_at IS NULL AND t.created_at < now() - make_interval(secs => $4)
       AND NOT EXISTS (SELECT 1 FROM chain_sends s WHERE s.rail = t.rail AND lower(s.tx_hash) = lower(t.tx_hash) AND s.environment = $2 AND s.status <> 'rejected'
                         -- a send whose payout we booked as failed or canceled did not pay out, as far as the ledger knows
                         AND NOT EXISTS (SELECT 1 FROM payouts po WHERE po.rail = s.rail AND lower(po.tx_hash) = lower(s.tx_hash) AND po.status IN ('failed', 'canceled')))`,
};

export interface RunScope {
  runId: string;
  environment: 'sandbox' | 'live';
  merchantId: string | null;
  graceS: number;
}

export interface RunSummary {
  breaks: Record<string, number>;
  /** Per asset, per class: the sum of actual minus expected, in minor units. */
  drift_minor: Record<string, Record<string, string>>;
  open_breaks: number;
  matched_payments: number;
}

/**
 * The run's row, `running`. The API writes it before starting the workflow (so a GET right after
 * the POST finds it) and the workflow's first activity writes it again for scheduled runs: once.
 */
async function insertRun(pool: Pool, r: { runId: string; environment: string; merchantId: string | null; trigger: string; requestedBy: string }): Promise<void> {
  await pool.query(
    `INSERT INTO reconciliation_runs (id, environment, merchant_id, status, trigger, requested_by, progress)
     VALUES ($1, $2, $3, 'running', $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
    [r.runId, r.environment, r.merchantId, r.trigger, r.requestedBy, JSON.stringify({ classes_done: 0, classes_total: BREAK_CLASSES.length })],
  );
}

export function createReconciliationActivities(deps: { pool: Pool; config: StablerailConfig }) {
  const { pool, config } = deps;
  const railsOf = (env: string) => config.rails.filter((r) => r.environments.includes(env as 'sandbox' | 'live'));

  return {
    async beginRun(input: RunScope & { trigger: string; requestedBy: string }): Promise<void> {
      await insertRun(pool, input);
    },

    /** One class, one statement: the new and still-present breaks of this class, stamped with this run. */
    async detectBreaks(input: RunScope & { breakClass: BreakClass; index: number }): Promise<number> {
      const rails = railsOf(input.environment);
      return withTx(pool, async (c) => {
        const r = await c.query(
          `INSERT INTO reconciliation_breaks AS b (id, fingerprint, class, environment, merchant_id, order_reference, payment_id, tx_hash, log_index, entry_id,
                                                   asset, expected_minor, actual_minor, drift_minor, status, first_run_id, last_run_id)
           SELECT 'brk_' || substr(md5(x.fp), 1, 24), x.fp, $7, $2, x.merchant_id::text, x.order_reference::text, x.payment_id::text, x.tx_hash::text,
                  x.log_index::int, x.entry_id::text, x.asset, x.expected, x.actual, x.actual - x.expected, 'open', $1, $1
             FROM (${CLASS_SQL[input.breakClass]}) AS x(fp, merchant_id, order_reference, payment_id, tx_hash, log_index, entry_id, asset, expected, actual)
            -- Every class gets the same parameters; this types the ones a class does not use.
            WHERE cardinality($5::text[]) >= 0 AND cardinality($6::text[]) >= 0 AND $4::int >= 0
           ON CONFLICT (fingerprint) DO UPDATE
             SET last_run_id = EXCLUDED.last_run_id, status = 'open',
                 expected_minor = EXCLUDED.expected_minor, actual_minor = EXCLUDED.actual_minor, drift_minor = EXCLUDED.drift_minor
             WHERE b.status <> 'resolved'`,
          [input.runId, input.environment, input.merchantId, input.graceS, rails.map((x) => x.id), rails.map((x) => x.asset), input.breakClass],
        );
        await c.query(
          `UPDATE reconciliation_runs SET progress = jsonb_build_object('classes_done', $2::int, 'classes_total', $3::int, 'last_class', $4::text) WHERE id = $1`,
          [input.runId, input.index + 1, BREAK_CLASSES.length, input.breakClass],
        );
        return r.rowCount ?? 0;
      });
    },

    /**
     * Clear what this run no longer sees, total the breaks, and mark confirmed payments with no
     * open break as matched. Returns those payment ids so the workflow can signal them.
     */
    async finishRun(input: RunScope): Promise<{ summary: RunSummary; matchedPaymentIds: string[] }> {
      return withTx(pool, async (c) => {
        // Only breaks last seen by an older run are cleared: a run that overlaps this one keeps its own.
        await c.query(
          `UPDATE reconciliation_breaks SET status = 'cleared'
            WHERE status = 'open' AND last_run_id <> $1 AND environment = $2 AND ($3::text IS NULL OR merchant_id = $3)
              AND last_run_id IN (SELECT id FROM reconciliation_runs WHERE started_at < (SELECT started_at FROM reconciliation_runs WHERE id = $1))`,
          [input.runId, input.environment, input.merchantId],
        );
        const { rows } = await c.query(
          `SELECT class, asset, count(*)::int AS n, sum(drift_minor)::text AS drift FROM reconciliation_breaks WHERE last_run_id = $1 AND status = 'open' GROUP BY 1, 2`,
          [input.runId],
        );
        // Candidates only: a payment counts as reconciled once its workflow acknowledged it
        // (acknowledgeReconciled), so the view never claims a gate the workflow did not see.
        const matched = await c.query<{ id: string }>(
          `SELECT p.id FROM payments p
            WHERE $1::text IS NOT NULL AND ${SCOPE_P} AND p.status = 'confirmed' AND p.reconciled_at IS NULL AND ${SETTLED_P}
              AND NOT EXISTS (SELECT 1 FROM reconciliation_breaks b WHERE b.payment_id = p.id AND b.status = 'open')
            ORDER BY p.id LIMIT $5`,
          [input.runId, input.environment, input.merchantId, input.graceS, RECONCILED_SIGNALS_PER_RUN_MAX],
        );
        const summary: RunSummary = { breaks: Object.fromEntries(BREAK_CLASSES.map((k) => [k, 0])), drift_minor: {}, open_breaks: 0, matched_payments: matched.rowCount ?? 0 };
        for (const r of rows) {
          summary.breaks[r.class] = (summary.breaks[r.class] ?? 0) + r.n;
          summary.open_breaks += r.n;
          (summary.drift_minor[r.asset] ??= {})[r.class] = r.drift;
        }
        await c.query(`UPDATE reconciliation_runs SET status = 'completed', summary = $2, finished_at = now() WHERE id = $1`, [input.runId, JSON.stringify(summary)]);
        return { summary, matchedPaymentIds: matched.rows.map((r) => r.id) };
      });
    },

    /**
     * Tell each matched payment's workflow through the `acknowledgeReconciled` Update and mark
     * reconciled only those that accepted it. A refusal (the payment left `confirmed`) or an
     * unreachable workflow leaves the payment for the next run; nothing is swallowed silently.
     */
    async acknowledgeReconciled(input: { runId: string; paymentIds: string[] }): Promise<{ acknowledged: number; refused: number }> {
      const ctx = Context.current();
      const acknowledged: string[] = [];
      let refused = 0;
      for (let i = 0; i < input.paymentIds.length; i += ACKNOWLEDGE_CONCURRENCY) {
        const batch = input.paymentIds.slice(i, i + ACKNOWLEDGE_CONCURRENCY);
        await Promise.all(
          batch.map(async (id) => {
            try {
              await ctx.client.workflow.getHandle(id).executeUpdate(paymentReconciledUpdate, { args: [{ runId: input.runId }], updateId: `reconciled-${input.runId}` });
              acknowledged.push(id);
            } catch (err) {
              refused += 1;
              ctx.log.warn('payment did not acknowledge reconciliation', { paymentId: id, runId: input.runId, error: String(err) });
            }
          }),
        );
        ctx.heartbeat({ done: i + batch.length });
      }
      await withTx(pool, async (c) => {
        await c.query(`UPDATE payments SET reconciled_at = now() WHERE id = ANY($1::text[]) AND reconciled_at IS NULL`, [acknowledged]);
        await c.query(
          `UPDATE reconciliation_runs SET summary = jsonb_set(jsonb_set(summary, '{matched_payments}', to_jsonb($2::int)), '{unacknowledged_payments}', to_jsonb($3::int)) WHERE id = $1`,
          [input.runId, acknowledged.length, refused],
        );
      });
      return { acknowledged: acknowledged.length, refused };
    },

    async failRun(input: { runId: string; error: string }): Promise<void> {
      await pool.query(`UPDATE reconciliation_runs SET status = 'failed', summary = jsonb_build_object('error', $2::text), finished_at = now() WHERE id = $1`, [input.runId, input.error]);
    },
  };
}

export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;

export async function getRun(pool: Pool, id: string, merchantId?: string) {
  const { rows } = await pool.query(`SELECT * FROM reconciliation_runs WHERE id = $1 AND ($2::text IS NULL OR merchant_id = $2)`, [id, merchantId ?? null]);
  return rows[0];
}

export async function runBreaks(pool: Pool, runId: string) {
  const { rows } = await pool.query(`SELECT * FROM reconciliation_breaks WHERE last_run_id = $1 AND status = 'open' ORDER BY class, fingerprint LIMIT 100000`, [runId]);
  return rows;
}

export function breakObject(config: StablerailConfig, b: Record<string, any>) {
  const d = decimalsOfAsset(config, b.asset);
  return {
    id: b.id, object: 'reconciliation_break', class: b.class, status: b.status,
    merchant_id: b.merchant_id, order_reference: b.order_reference, payment_id: b.payment_id, tx_hash: b.tx_hash, log_index: b.log_index, entry_id: b.entry_id,
    asset: b.asset, expected: formatAmount(BigInt(b.expected_minor), d), actual: formatAmount(BigInt(b.actual_minor), d), drift: formatAmount(BigInt(b.drift_minor), d),
    first_run_id: b.first_run_id, last_run_id: b.last_run_id,
    resolution: b.resolution ?? null, resolved_by: b.resolved_by ?? null, reason: b.reason ?? null,
  };
}

export function runObject(config: StablerailConfig, run: Record<string, any>, breaks?: Array<Record<string, any>>) {
  const summary = run.summary ?? {};
  const drift: Record<string, Record<string, string>> = {};
  for (const [asset, byClass] of Object.entries((summary.drift_minor ?? {}) as Record<string, Record<string, string>>)) {
    drift[asset] = Object.fromEntries(Object.entries(byClass).map(([k, v]) => [k, formatAmount(BigInt(v), decimalsOfAsset(config, asset))]));
  }
  return {
    id: run.id, object: 'reconciliation_run', status: run.status, environment: run.environment, merchant_id: run.merchant_id, trigger: run.trigger,
    progress: run.progress, breaks_by_class: summary.breaks ?? null, open_breaks: summary.open_breaks ?? null, matched_payments: summary.matched_payments ?? null,
    drift_by_asset: drift, error: summary.error ?? null,
    started_at: new Date(run.started_at).toISOString(), finished_at: run.finished_at ? new Date(run.finished_at).toISOString() : null,
    ...(breaks ? { breaks: breaks.map((b) => breakObject(config, b)) } : {}),
  };
}

export function breaksCsv(config: StablerailConfig, breaks: Array<Record<string, any>>): string {
  return toCsv(
    ['break_id', 'class', 'status', 'merchant_id', 'order_reference', 'payment_id', 'tx_hash', 'log_index', 'entry_id', 'asset', 'expected', 'actual', 'drift', 'first_run_id', 'last_run_id'],
    breaks.map((b) => {
      const o = breakObject(config, b);
      return [o.id, o.class, o.status, o.merchant_id, o.order_reference, o.payment_id, o.tx_hash, o.log_index, o.entry_id, o.asset, o.expected, o.actual, o.drift, o.first_run_id, o.last_run_id];
    }),
  );
}

/** An operator's decision on a break: audited, and the break never reopens. */
export async function resolveBreak(pool: Pool, id: string, operator: string, resolution: string, reason: string) {
  return withTx(pool, async (c) => {
    const { rows } = await c.query(
      `UPDATE reconciliation_breaks SET status = 'resolved', resolved_by = $2, resolution = $3, reason = $4, resolved_at = now()
        WHERE id = $1 AND status <> 'resolved' RETURNING *`,
      [id, operator, resolution, reason],
    );
    if (!rows[0]) return undefined;
    await appendEvidence(c, {
      kind: 'reconciliation.break_resolved', subject: rows[0].payment_id ?? rows[0].merchant_id ?? rows[0].id, actor: operator,
      payload: { break_id: id, class: rows[0].class, resolution, reason }, dedupeKey: `break:${id}:resolved`,
    });
    return rows[0];
  });
}

export const newRunId = (): string => newId('rec');
