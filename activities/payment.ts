// Payment records in PostgreSQL: the view the API reads, and the activities the payment
// workflow calls to record each transition (transition row, payment view, event and
// evidence entry in one transaction, keyed by payment id and sequence so a retry is a no-op).
import { postWriteOff } from './resolutions.js';
import type { Pool, DbClient } from './db.js';
import { withTx } from './db.js';
import * as payments from './repositories/payments.js';
import { findPayment, PAYMENT_COLUMNS, type PaymentRow } from './repositories/payments.js';
import { eventAt } from './repositories/events.js';
import type { RailConfig, StablerailConfig } from './config.js';
import { explorerTxUrl, railById } from './config.js';
import { appendEvidence } from './evidence.js';
import { planEventDeliveries, sendFirstAttempts } from './webhooks/delivery.js';
import { takeDepositAddress, releaseDepositAddress } from './deposit-address.js';
import { newId, randomBase62 } from './ids.js';
import { formatAmount } from '../workflows/rules/money.js';
import { assertTransition, eventTypeFor, type PaymentStatus } from '../workflows/rules/transitions.js';
import type { LateTransfersRecord, PaymentCreated, PaymentRecordInput, PaymentView, RecordedTransition, RefundAddressRecorded, TransitionRecord } from '../workflows/shared.js';
import { recordChainException } from './chain-exceptions.js';
import type { PlannedDelivery } from '../workflows/webhook-shared.js';
import { ApplicationFailure } from '@temporalio/common';

export { PAYMENT_COLUMNS, type PaymentRow } from './repositories/payments.js';

function decimalsOf(config: StablerailConfig, railId: string): number {
  const rail = railById(config, railId);
  // A payment outlives a config change only if its rail stays configured; refuse to guess its scale.
  if (!rail) throw new Error(`rail ${railId} of an existing payment is no longer configured`);
  return rail.decimals;
}

/** The merchant-facing payment object: one serializer for the API, events and webhooks. */
export function paymentObject(row: PaymentRow, config: StablerailConfig) {
  const decimals = decimalsOf(config, row.rail);
  return {
    id: row.id,
    object: 'payment' as const,
    livemode: row.environment === 'live',
    status: row.status,
    exception: row.exception_code ? { code: row.exception_code } : null,
    amount: formatAmount(BigInt(row.amount_minor), decimals),
    amount_received: formatAmount(BigInt(row.amount_received_minor), decimals),
    asset: row.asset,
    rail: row.rail,
    deposit_address: row.deposit_address,
    expires_at: row.expires_at.toISOString(),
    public_id: row.public_id,
    hosted_url: `${config.base_url}/pay/${row.public_id}`,
    reference: row.reference,
    metadata: row.metadata,
    refund_address: row.refund_address ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** What a payer may see: no merchant id, reference, metadata or internal id. */
export function publicPaymentObject(row: PaymentRow, config: StablerailConfig) {
  const rail = railById(config, row.rail)!;
  return {
    public_id: row.public_id,
    object: 'public_payment' as const,
    livemode: row.environment === 'live',
    status: row.status,
    // What went wrong, in the payer's terms (underpaid, overpaid, paid_late); no internal detail.
    exception: row.exception_code ? { code: row.exception_code } : null,
    amount: formatAmount(BigInt(row.amount_minor), rail.decimals),
    amount_received: formatAmount(BigInt(row.amount_received_minor), rail.decimals),
    asset: row.asset,
    network: rail.network,
    rail: row.rail,
    token_contract: rail.token_contract,
    chain_id: rail.chain_id ?? null,
    decimals: rail.decimals,
    deposit_address: row.deposit_address,
    expires_at: row.expires_at.toISOString(),
    confirmations_required: rail.confirmations_required,
    // Whether a refund address was left already; the address itself is not shown to whoever holds the link.
    refund_address_set: !!row.refund_address,
    // Whether the devnet's "Simulate payment" may pay it: a sandbox payment on a devnet rail.
    simulatable: row.environment === 'sandbox' && rail.devnet === true,
  };
}

/**
 * The transactions that paid a payment, as the watcher matched them (reorged ones left out),
 * each with its explorer page where the rail's config names one: what a payer keeps as proof.
 */
export async function paymentTransactions(pool: Pool, config: StablerailConfig, row: Pick<PaymentRow, 'id' | 'rail'>): Promise<Array<{ tx_hash: string; explorer_url: string | null }>> {
  const rail = railById(config, row.rail);
  const hashes = await payments.txHashesOf(pool, row.rail, row.id, PAYMENT_TRANSACTIONS_SHOWN_MAX);
  return hashes.map((h) => ({ tx_hash: h, explorer_url: rail ? explorerTxUrl(rail, h) : null }));
}

/** A payment paid in more pieces than this shows the first ones; the merchant's API has them all. */
export const PAYMENT_TRANSACTIONS_SHOWN_MAX = 20;

export interface NewPayment {
  merchantId: string;
  environment: 'sandbox' | 'live';
  rail: RailConfig;
  amountMinor: bigint;
  reference: string;
  metadata: Record<string, string>;
  expiresInS: number;
  actor: string;
  /** Pre-chosen so a retried request converges on the same payment. */
  paymentId?: string;
}

/**
 * Write a new payment: the view row, its address, transition 1 (payment.created) with its
 * event and evidence entry, all in one transaction. Called by the payment workflow's create
 * Update (createPaymentRecord), so no row exists without its workflow.
 */
export async function insertPayment(pool: Pool, config: StablerailConfig, p: NewPayment): Promise<PaymentRow> {
  return (await insertPaymentWithDeliveries(pool, config, p)).row;
}

/** insertPayment, answering payment.created's planned webhook deliveries too. */
export async function insertPaymentWithDeliveries(pool: Pool, config: StablerailConfig, p: NewPayment): Promise<{ row: PaymentRow; planned: PlannedDelivery[] }> {
  const id = p.paymentId ?? newId('pay');
  const publicId = `pub_${randomBase62(24)}`;
  const first: TransitionRecord = {
    paymentId: id, seq: 1, from: null, to: 'awaiting_payment', cause: 'api_create', actor: p.actor,
    exceptionCode: null, amountReceivedMinor: '0',
  };
  return withTx(pool, async (c) => {
    const addr = await takeDepositAddress(c, p.rail, id);
    // Raw pg, one statement for a fresh address's row, the payment row and transition 1 (written at
    // the row's updated_at, as every transition is): each round trip in the create transaction
    // costs payments/s (docs/benchmarks.md, payments, 2026-12-02).
    const { rows } = await c.query<PaymentRow>({
      name: 'insert_payment_with_first_transition',
      text: `WITH fresh_address AS (
           INSERT INTO deposit_addresses (rail, address_index, address, payment_id, assigned_at)
           SELECT $5, $9::bigint, $8, $1, now() WHERE $13::boolean),
         p AS (
           INSERT INTO payments (id, public_id, merchant_id, environment, rail, asset, amount_minor, status, deposit_address,
                                 address_index, reference, metadata, expires_at, created_at, updated_at, last_seq)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'awaiting_payment', $8, $9, $10, $11,
                   date_trunc('milliseconds', now()) + make_interval(secs => $12), date_trunc('milliseconds', now()), date_trunc('milliseconds', now()), 1)
           RETURNING *),
         t AS (
           INSERT INTO payment_transitions (payment_id, seq, from_status, to_status, cause, actor, exception_code, reason, amount_received_minor, created_at)
           SELECT p.id, $14::int, $15::text, $16::text, $17::text, $18::text, $19::text, $20::text, $21::numeric, p.updated_at FROM p)
       SELECT ${PAYMENT_COLUMNS} FROM p`,
      values: [id, publicId, p.merchantId, p.environment, p.rail.id, p.rail.asset, p.amountMinor.toString(), addr.address,
        addr.index.toString(), p.reference, JSON.stringify(p.metadata), p.expiresInS, addr.fresh,
        first.seq, first.from, first.to, first.cause, first.actor, first.exceptionCode, first.reason ?? null, first.amountReceivedMinor],
    });
    const row = rows[0]!;
    const rec = await writeTransitionSideEffects(c, config, row, first, { transitionWritten: true });
    return { row, planned: rec.planned ?? [] };
  });
}

/**
 * The transition row (unless the caller wrote it), its event, the event's delivery plan and the
 * evidence entry. The evidence append comes last: it takes the chain's transaction-scoped lock,
 * which every recording transaction waits for, so it is held only for the append and the commit.
 */
async function writeTransitionSideEffects(c: DbClient, config: StablerailConfig, row: PaymentRow, t: TransitionRecord, opts: { transitionWritten?: boolean } = {}): Promise<RecordedTransition> {
  const eventId = newId('evt');
  const eventType = eventTypeFor(t.from, t.to);
  if (!opts.transitionWritten) await payments.insertTransition(c, t, row.updated_at);
  await payments.insertPaymentEvent(c, { id: eventId, type: eventType, paymentId: row.id, sequence: t.seq, data: paymentObject(row, config), at: row.updated_at });
  const planned = await planEventDeliveries(c, { id: eventId, type: eventType, merchant_id: row.merchant_id, environment: row.environment, object_id: row.id, sequence: t.seq });
  await appendEvidence(c, {
    kind: 'payment.transition',
    subject: t.paymentId,
    actor: t.actor,
    payload: {
      seq: t.seq,
      from: t.from,
      to: t.to,
      cause: t.cause,
      exception_code: t.exceptionCode,
      reason: t.reason ?? null,
      amount_received_minor: t.amountReceivedMinor,
      event_id: eventId,
    },
    dedupeKey: `transition:${t.paymentId}:${t.seq}`,
  });
  return { eventId, eventType, inserted: true, planned };
}

/** The deliveries of a recorded payment event, planned again (an activity retried after its commit). */
async function replanDeliveries(c: DbClient, paymentId: string, seq: number): Promise<PlannedDelivery[]> {
  const e = await eventAt(c, paymentId, seq);
  if (!e) throw new Error(`no event for ${paymentId} at sequence ${seq}`);
  return planEventDeliveries(c, e);
}

export class TransitionOutOfOrderError extends Error {
  override name = 'TransitionOutOfOrderError';
}

export function createPaymentActivities(deps: { pool: Pool; config: StablerailConfig; masterKey?: Buffer }) {
  const { pool, config } = deps;
  // With the signing key, recordTransition makes each webhook's first attempt after its commit,
  // so a healthy endpoint costs no workflow of its own; without it, every delivery goes to a lane.
  const send = deps.masterKey ? { pool, config, masterKey: deps.masterKey } : null;
  return {
    /**
     * The create Update's one write: the payment row, deposit address, transition 1, its event
     * and evidence entry in one transaction (insertPayment). Keyed by the payment id: a retry
     * (a crashed worker, a replayed workflow task) finds the row and answers the same view.
     */
    async createPaymentRecord(input: PaymentRecordInput): Promise<PaymentCreated> {
      const rail = railById(config, input.rail);
      // The API checked the rail; a config changed in between is the only way here.
      if (!rail) throw ApplicationFailure.nonRetryable(`No rail ${input.rail} is configured`, 'rail_unknown');
      // No read first: the insert is keyed by the payment id, so a retry after the commit fails on
      // it and reads the row below (one round trip less per payment, docs/benchmarks.md). Such a
      // retry may consume an address index it rolls back: a gap, as any rollback leaves; an index
      // without a row is never watched nor given out.
      const created =
        (await insertPaymentWithDeliveries(pool, config, {
          paymentId: input.paymentId,
          merchantId: input.merchantId,
          environment: input.environment,
          rail,
          amountMinor: BigInt(input.amountMinor),
          reference: input.reference,
          metadata: input.metadata,
          expiresInS: input.expiresInS,
          actor: input.actor,
        }).catch((err: unknown) => {
          // A retry after the commit, or two attempts racing (a zombie worker): read the row below.
          if ((err as { code?: string }).code === '23505') return null;
          throw err;
        }));
      const row = created?.row ?? (await findPayment(pool, input.paymentId));
      if (!row) throw new Error(`payment ${input.paymentId} neither written nor found`);
      // A retry after the row committed plans again: delivery ids are derived, so nothing doubles.
      const planned = created?.planned ?? (await withTx(pool, (c) => replanDeliveries(c, input.paymentId, 1)));
      if (row.merchant_id !== input.merchantId || row.amount_minor !== input.amountMinor || row.rail !== input.rail) {
        // Payment ids are random and reserved per request: a mismatch means a bug, never a retry.
        throw ApplicationFailure.nonRetryable(`payment ${input.paymentId} exists with other terms`, 'payment_id_conflict');
      }
      return { view: paymentObject(row, config) as PaymentView, expiresAtMs: row.expires_at.getTime(), planned };
    },

    /** The current view, for a create Update that reaches a run continued-as-new after creation. */
    async paymentView(paymentId: string): Promise<PaymentView> {
      const row = await findPayment(pool, paymentId);
      if (!row) throw ApplicationFailure.nonRetryable(`payment ${paymentId} has no row`, 'payment_missing');
      return paymentObject(row, config) as PaymentView;
    },

    async recordTransition(t: TransitionRecord): Promise<RecordedTransition> {
      // Asserted before the write (here) and after it (the status check constraint and the test suite's audit).
      assertTransition(t.from, t.to);
      const recorded = await recordTransitionRows(t);
      // After the commit: a receiver never sees an event that could still roll back.
      return send && recorded.planned ? { ...recorded, planned: await sendFirstAttempts(send, recorded.planned) } : recorded;
    },

    /**
     * The payer's refund address, first one wins (anyone holding the payment link could
     * otherwise redirect the refund): the column and its evidence entry in one transaction.
     * A retry after commit finds its own address and answers `set` again.
     */
    async recordRefundAddress(paymentId: string, address: string): Promise<RefundAddressRecorded> {
      return withTx(pool, async (c) => {
        const r = await payments.setRefundAddressOnce(c, paymentId, address);
        if (r.set) {
          await appendEvidence(c, { kind: 'payment.refund_address', subject: paymentId, actor: 'payer', payload: { address }, dedupeKey: `refund-address:${paymentId}` });
          return { address, set: true };
        }
        const kept = r.address;
        if (!kept) throw ApplicationFailure.nonRetryable(`payment ${paymentId} has no row`, 'payment_missing');
        return { address: kept, set: kept === address };
      });
    },

    async releaseDepositAddress(paymentId: string): Promise<number> {
      return releaseDepositAddress(pool, paymentId);
    },

    /** amount_received as the chain shows it between transitions (payments.setAmountReceived). */
    async recordAmountReceived(r: { paymentId: string; seq: number; amountReceivedMinor: string }): Promise<boolean> {
      return payments.setAmountReceived(pool, r.paymentId, r.seq, r.amountReceivedMinor);
    },

    /**
     * Money that reached a closed payment (rules/matching.ts, lateTransfers): each transfer an
     * `unmatched_transfer` chain exception with its evidence entry, exactly as the watcher records
     * one for a payment whose workflow has ended (the same row and dedupe key, so the two never
     * record it twice). Answers how many were new.
     */
    async recordLateTransfers(r: LateTransfersRecord): Promise<number> {
      const row = await findPayment(pool, r.paymentId);
      if (!row) throw ApplicationFailure.nonRetryable(`payment ${r.paymentId} has no row`, 'payment_missing');
      return withTx(pool, async (c) => {
        let fresh = 0;
        for (const t of r.transfers) {
          const cut = t.key.lastIndexOf(':');
          const e = { rail: r.rail, txHash: t.key.slice(0, cut), logIndex: Number(t.key.slice(cut + 1)), to: row.deposit_address, amountMinor: t.amountMinor, code: 'unmatched_transfer' };
          if (await recordChainException(c, { ...e, paymentId: r.paymentId, actor: `payment:${r.paymentId}`, detail: { reason: 'payment_closed', payment_status: r.status } })) fresh += 1;
        }
        return fresh;
      });
    },
  };

  /** The transition, its event, evidence entry and delivery plan in one transaction; a retry after commit finds them. */
  function recordTransitionRows(t: TransitionRecord): Promise<RecordedTransition> {
    return withTx(pool, async (c) => {
      const existing = await payments.recordedTransition(c, t.paymentId, t.seq);
      if (existing) {
        // A retry after commit: the plan is derived again (idempotent), so the workflow still gets it.
        const planned = await replanDeliveries(c, t.paymentId, t.seq);
        return { eventId: existing.id, eventType: existing.type, inserted: false, planned };
      }
      const row = await payments.advancePayment(c, t);
      if (!row) {
        throw new TransitionOutOfOrderError(`payment ${t.paymentId} is not at seq ${t.seq - 1} in status ${t.from}`);
      }
      // A write-off is posted with the decision, in the same transaction (issue #16).
      if (t.to === 'written_off') await postWriteOff(c, row, BigInt(t.amountReceivedMinor), t.actor, t.reason ?? null);
      return writeTransitionSideEffects(c, config, row, t);
    });
  }
}

export type PaymentActivities = ReturnType<typeof createPaymentActivities>;


