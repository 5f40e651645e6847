// A payment's evidence pack: everything an auditor needs to follow one payment from creation
// to its last posting, with the hash-chain proof for its evidence entries and a pointer to
// its Temporal history. The API and `stablerail evidence export` serve the same pack.
import type { Pool } from './db.js';
import type { StablerailConfig } from './config.js';
import { evidenceForSubject, verifyEvidence } from './evidence.js';
import { paymentObject, type PaymentRow } from './payment.js';

export const PACK_ROWS_MAX = 1_000;

export async function evidencePack(pool: Pool, config: StablerailConfig, row: PaymentRow, temporal: { namespace: string; uiUrl?: string | null }) {
  const [transitions, events, postings, evidence, chain] = await Promise.all([
    pool.query(`SELECT seq, from_status, to_status, cause, actor, exception_code, reason, amount_received_minor::text, created_at FROM payment_transitions WHERE payment_id = $1 ORDER BY seq LIMIT $2`, [row.id, PACK_ROWS_MAX]),
    pool.query(`SELECT id, type, sequence, created_at FROM events WHERE object_id = $1 ORDER BY sequence LIMIT $2`, [row.id, PACK_ROWS_MAX]),
    pool.query(
      `SELECT e.id AS entry_id, e.cause, e.gate, e.tx_hash, e.log_index, e.reverses_id, e.effective_at, l.line_no, l.account_id, l.asset, l.amount_minor::text
         FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id WHERE e.payment_id = $1 ORDER BY e.effective_at, e.id, l.line_no LIMIT $2`,
      [row.id, PACK_ROWS_MAX],
    ),
    evidenceForSubject(pool, row.id),
    verifyEvidence(pool),
  ]);
  const transfers = (
        await pool.query(
          `SELECT t.tx_hash, t.log_index, t.block_height::text, t.block_hash, t.from_address, t.to_address, t.amount_minor::text, t.removed_at, t.created_at,
                  CASE WHEN t.removed_at IS NULL THEN GREATEST(c.head_height - t.block_height + 1, 0)::text END AS confirmations
             FROM chain_transfers t LEFT JOIN chain_cursors c ON c.rail = t.rail WHERE t.payment_id = $1 ORDER BY t.block_height, t.log_index LIMIT $2`,
          [row.id, PACK_ROWS_MAX],
        )
      ).rows;
  const attempts = (
    await pool.query(
      `SELECT a.delivery_id, a.attempt, a.event_id, a.endpoint_id, a.url, a.response_status, a.latency_ms, a.error, a.outcome, a.created_at
         FROM webhook_attempts a JOIN events e ON e.id = a.event_id
        WHERE e.object_id = $1 ORDER BY a.created_at LIMIT $2`,
      [row.id, PACK_ROWS_MAX],
    )
  ).rows;
  return {
    object: 'evidence_pack',
    generated_at: new Date().toISOString(),
    payment: paymentObject(row, config),
    merchant_id: row.merchant_id,
    environment: row.environment,
    transitions: transitions.rows,
    events: events.rows,
    transfers,
    webhook_attempts: attempts,
    postings: postings.rows,
    operator_decisions: evidence.filter((e) => e.actor !== 'system' && !e.actor.startsWith('watcher:') && !e.actor.startsWith('api_key:') && e.actor !== 'treasury'),
    evidence,
    chain_proof: {
      // Recompute each entry's hash from its prev_hash and content with `stablerail evidence verify`.
      intact: chain.ok,
      entries_verified: chain.checked,
      head_hash: chain.headHash,
      first_broken: chain.firstBroken ?? null,
    },
    temporal_history: {
      namespace: temporal.namespace,
      workflow_id: row.id,
      ui_url: temporal.uiUrl ? `${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows/${row.id}` : null,
      cli: `temporal workflow show --namespace ${temporal.namespace} --workflow-id ${row.id}`,
    },
  };
}
