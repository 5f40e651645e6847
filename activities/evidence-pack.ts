// A payment's evidence pack: everything an auditor needs to follow one payment from creation
// to its last posting, with the hash-chain proof for its evidence entries and a pointer to
// its Temporal history. The API and `stablerail evidence export` serve the same pack.
import type { Pool } from './db.js';
import type { StablerailConfig } from './config.js';
import { evidenceForSubject, verifyEvidence } from './evidence.js';
import { paymentObject, type PaymentRow } from './payment.js';
import { paymentHistory } from './repositories/payment-history.js';

export const PACK_ROWS_MAX = 1_000;

export async function evidencePack(pool: Pool, config: StablerailConfig, row: PaymentRow, temporal: { namespace: string; uiUrl?: string | null }) {
  const [history, evidence, chain] = await Promise.all([paymentHistory(pool, row.id, PACK_ROWS_MAX), evidenceForSubject(pool, row.id), verifyEvidence(pool)]);
  return {
    object: 'evidence_pack',
    generated_at: new Date().toISOString(),
    payment: paymentObject(row, config),
    merchant_id: row.merchant_id,
    environment: row.environment,
    transitions: history.transitions,
    events: history.events,
    transfers: history.transfers,
    webhook_attempts: history.webhookAttempts,
    postings: history.postings,
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
