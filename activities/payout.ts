// Payout records in PostgreSQL: the payout view, its transitions, approvals, the ledger hold
// taken at request and what becomes of it (paid out, or released), and the allowlist of
// destinations. The payout workflow decides; these functions record, idempotently, keyed by
// payout id and sequence or by a posting's cause.
import { ApplicationFailure } from '@temporalio/common';
import type { DbClient, Pool } from './db.js';
import { withPrismaTx, withTx } from './db.js';
import { decimalsOfAsset, nativeAssetOf, railById, type RailConfig, type StablerailConfig } from './config.js';
import { appendEvidence } from './evidence.js';
import { newId } from './ids.js';
import { accountId, postEntries, postingId, reversalOf, type AccountRef, type Posting } from './ledger.js';
import { DomainError } from './merchant.js';
import { formatAmount, parseAmount } from '../workflows/rules/money.js';
import { approvalsRequired, assertPayoutTransition, payoutEventType, type PayoutStatus } from '../workflows/rules/payout-transitions.js';
import type { CreateRefusal, PayoutCreateRequest, PayoutTransitionRecord, PayoutView, TransferOutcomePayload } from '../workflows/payout-shared.js';
import * as ledgerRecords from './repositories/ledger.js';
import * as records from './repositories/payouts.js';
import type { PayoutRow } from './repositories/payouts.js';

export type { PayoutRow };

export const PAYOUT_ID_RE = /^po_[0-9A-Za-z]{24}$/;
export const DESTINATION_ID_RE = /^pd_[0-9A-Za-z]{24}$/;

/** The merchant-facing payout object: one serializer for the API, events and webhooks. */
export function payoutObject(row: PayoutRow, config: StablerailConfig, approvals: Array<{ operator: string; created_at: Date }> = []): PayoutView {
  const decimals = decimalsOfAsset(config, row.asset);
  return {
    id: row.id,
    object: 'payout',
    livemode: row.environment === 'live',
    kind: row.kind,
    status: row.status,
    amount: formatAmount(BigInt(row.amount_minor), decimals),
    asset: row.asset,
    rail: row.rail,
    destination: { id: row.destination_id, address: row.destination_address },
    reference: row.reference,
    payment_id: row.payment_id,
    approvals_required: row.approvals_required,
    approvals: approvals.map((a) => ({ operator: a.operator, created_at: a.created_at.toISOString() })),
    tx_hash: row.tx_hash,
    network_fee: row.network_fee_minor && row.network_fee_asset
      ? { amount: formatAmount(BigInt(row.network_fee_minor), decimalsOfAsset(config, row.network_fee_asset)), asset: row.network_fee_asset }
      : null,
    failure_code: row.failure_code,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export const getPayoutRow = (c: Pool | DbClient, id: string): Promise<PayoutRow | undefined> => records.payoutRowById(c, id);

export const payoutApprovals = (c: Pool | DbClient, id: string): Promise<Array<{ operator: string; reason: string; created_at: Date }>> => records.approvalsOf(c, id);

const account = (row: { environment: 'sandbox' | 'live' }, ownerType: AccountRef['ownerType'], ownerId: string, purpose: AccountRef['purpose'], asset: string): AccountRef =>
  ({ environment: row.environment, ownerType, ownerId, purpose, asset });

/** Balance of one account on its normal side, as of now. */
async function accountBalance(c: DbClient, a: AccountRef, creditNormal: boolean): Promise<bigint> {
  const debit = await ledgerRecords.accountDebitBalance(c, accountId(a));
  return creditNormal ? -debit : debit;
}

/**
 * Serialize every hold against one merchant's balance in an asset: two payouts racing for
 * the same available money must not both pass the balance check.
 */
async function lockBalance(c: DbClient, a: AccountRef): Promise<void> {
  await ledgerRecords.lockAccountBalance(c, accountId(a));
}

/** A threshold of 0 is allowed (every payout needs two operators), unlike an amount. */
const thresholdMinor6 = (amount: string): bigint => (/^0+(\.0+)?$/.test(amount) ? 0n : parseAmount(amount, 6));

/** The threshold above which two operators approve, in minor units of the rail's asset. */
export async function dualApprovalAboveMinor(c: Pool | DbClient, config: StablerailConfig, merchantId: string, environment: string, rail: RailConfig): Promise<bigint> {
  // Stored in the asset's units scaled to 6 places (USDT and USDC both use 6); rescaled per rail.
  const stored6 = (await records.storedDualApprovalMinor6(c, merchantId, environment)) ?? thresholdMinor6(config.payouts.dual_approval_above);
  return rail.decimals >= 6 ? stored6 * 10n ** BigInt(rail.decimals - 6) : stored6 / 10n ** BigInt(6 - rail.decimals);
}

export async function setDualApprovalThreshold(pool: Pool, merchantId: string, environment: string, amount: string, operator: string): Promise<void> {
  const minor6 = thresholdMinor6(amount);
  await withPrismaTx(pool, async (tx) => {
    await records.setDualApprovalMinor6(tx, merchantId, environment, minor6, operator);
    await appendEvidence(tx, { kind: 'payout.settings', subject: merchantId, actor: operator, payload: { environment, dual_approval_above: amount }, dedupeKey: newId('ps') });
  });
}

interface TransitionWrite {
  payoutId: string;
  seq: number;
  from: PayoutStatus | null;
  to: PayoutStatus;
  cause: string;
  actor: string;
  reason?: string | null;
}

async function writePayoutTransition(c: DbClient, config: StablerailConfig, row: PayoutRow, t: TransitionWrite): Promise<{ eventId: string }> {
  const eventId = newId('evt');
  await records.insertPayoutTransition(c, t, row.updated_at);
  const approvals = await payoutApprovals(c, row.id);
  await records.insertPayoutEvent(c, { id: eventId, type: payoutEventType(t.to), payoutId: row.id, sequence: t.seq, data: payoutObject(row, config, approvals), at: row.updated_at });
  await appendEvidence(c, {
    kind: 'payout.transition',
    subject: t.payoutId,
    actor: t.actor,
    payload: { seq: t.seq, from: t.from, to: t.to, cause: t.cause, reason: t.reason ?? null, tx_hash: row.tx_hash, event_id: eventId },
    dedupeKey: `payout-transition:${t.payoutId}:${t.seq}`,
  });
  return { eventId };
}

export interface NewPayout {
  payoutId?: string;
  merchantId: string;
  environment: 'sandbox' | 'live';
  rail: RailConfig;
  amountMinor: bigint;
  destination: { id: string | null; address: string };
  reference: string;
  actor: string;
  kind: 'payout' | 'refund';
  paymentId?: string;
}

/**
 * Write a payout request: the balance check and the hold (available → payout hold) under the
 * merchant's balance lock, the payout row, transition 1 (payout.created) with its event and
 * evidence, all in one transaction. Nothing is written when the balance is short.
 */
export async function insertPayout(pool: Pool, config: StablerailConfig, p: NewPayout): Promise<PayoutRow> {
  const id = p.payoutId ?? newId('po');
  return withTx(pool, async (c) => {
    const available = account(p, 'merchant', p.merchantId, 'available', p.rail.asset);
    const hold = account(p, 'merchant', p.merchantId, 'payout_hold', p.rail.asset);
    await lockBalance(c, available);
    // Keyed by payout id: a retried create step finds what the first one wrote, under the same lock.
    const existing = await getPayoutRow(c, id);
    if (existing) return existing;
    // A refund address (or an allowlisted one) that is one of our own deposit addresses would put
    // the money back into the platform's custody as another payment's.
    if (await records.isDepositAddress(pool, config.rails, p.destination.address)) {
      throw new DomainError('destination_is_deposit_address', `${p.destination.address} is a Stablerail deposit address: payouts and refunds go to addresses outside the platform`, 'destination', 400);
    }
    if (p.destination.id) {
      // Read under a share lock: a revocation committing now is seen, or waits for this payout
      // and then finds it among the payouts to cancel.
      const status = await records.destinationStatusShared(c, p.destination.id);
      if (status !== 'active') throw new DomainError('destination_not_usable', `${p.destination.address} is ${status ?? 'not on the allowlist'}; no payout can go to it`, 'destination', 400);
    }
    const balance = await accountBalance(c, available, true);
    if (balance < p.amountMinor) {
      throw new DomainError('insufficient_balance', `available balance is ${formatAmount(balance, p.rail.decimals)} ${p.rail.asset}; the payout needs ${formatAmount(p.amountMinor, p.rail.decimals)}`, 'amount', 400);
    }
    const required = approvalsRequired(p.amountMinor, await dualApprovalAboveMinor(c, config, p.merchantId, p.environment, p.rail));
    const hold_posting: Posting = {
      cause: `payout:${id}/hold`, environment: p.environment, gate: 'payout_hold', merchantId: p.merchantId, payoutId: id, rail: p.rail.id,
      memo: `payout ${id} requested: held from available`,
      lines: [{ account: available, amountMinor: p.amountMinor }, { account: hold, amountMinor: -p.amountMinor }],
    };
    await postEntries(c, [hold_posting]);
    return insertPayoutRow(c, config, p, id, required, postingId(hold_posting.cause));
  });
}

async function insertPayoutRow(c: DbClient, config: StablerailConfig, p: NewPayout, id: string, required: number, holdEntryId: string): Promise<PayoutRow> {
  const row = await records.insertPayoutRecord(c, {
    id, merchantId: p.merchantId, environment: p.environment, kind: p.kind, rail: p.rail.id, asset: p.rail.asset, amountMinor: p.amountMinor.toString(),
    destinationId: p.destination.id, destinationAddress: p.destination.address, reference: p.reference, paymentId: p.paymentId ?? null,
    approvalsRequired: required, holdEntryId, createdBy: p.actor,
  });
  await writePayoutTransition(c, config, row, { payoutId: id, seq: 1, from: null, to: 'pending_approval', cause: p.kind === 'refund' ? 'refund_requested' : 'api_create', actor: p.actor });
  return row;
}

/**
 * A refund of an exception payment: its money is held for the payer from wherever the ledger
 * has it. Money never posted (an underpaid payment stops before confirmation) is still in rail
 * custody; money posted to pending or available comes back from there. One refund per payment.
 */
export async function insertRefund(c: DbClient, config: StablerailConfig, o: { payoutId: string; paymentId: string; address: string; actor: string }): Promise<PayoutRow> {
  // The payment row's lock serializes two refund decisions for the same payment.
  const pay = await records.lockPaymentForRefund(c, o.paymentId);
  const same = await getPayoutRow(c, o.payoutId);
  if (same) return same;
  const open = await records.openRefundOf(c, o.paymentId);
  if (open) return (await getPayoutRow(c, open))!;
  if (!pay) throw new DomainError('resource_missing', `no payment ${o.paymentId}`, 'id', 404);
  const rail = railById(config, pay.rail);
  if (!rail) throw new DomainError('rail_unknown', `rail ${pay.rail} is not configured`, 'rail');
  const received = BigInt(pay.received_minor ?? '0');
  if (received <= 0n) throw new DomainError('nothing_to_refund', 'no money was received for this payment', 'decision');
  const env = { environment: pay.environment as 'sandbox' | 'live' };
  const pending = account(env, 'merchant', pay.merchant_id, 'pending', pay.asset);
  const available = account(env, 'merchant', pay.merchant_id, 'available', pay.asset);
  const custody = account(env, 'rail', pay.rail, 'custody', pay.asset);
  const hold = account(env, 'merchant', pay.merchant_id, 'payout_hold', pay.asset);
  // What this payment's own entries left on pending and available (credit-normal: negated).
  const { pending: onPending, available: onAvailable } = await ledgerRecords.paymentPostedCredits(c, o.paymentId);
  const fromCustody = received - onPending - onAvailable;
  const lines = [
    ...(onPending > 0n ? [{ account: pending, amountMinor: onPending }] : []),
    ...(onAvailable > 0n ? [{ account: available, amountMinor: onAvailable }] : []),
    ...(fromCustody !== 0n ? [{ account: custody, amountMinor: fromCustody }] : []),
    { account: hold, amountMinor: -received },
  ];
  const cause = `payout:${o.payoutId}/hold`;
  await postEntries(c, [{ cause, environment: env.environment, gate: 'refund_hold', merchantId: pay.merchant_id, paymentId: o.paymentId, payoutId: o.payoutId, rail: pay.rail, memo: `refund ${o.payoutId} of payment ${o.paymentId}: held for the payer`, lines }]);
  return insertPayoutRow(c, config, {
    merchantId: pay.merchant_id, environment: env.environment, rail, amountMinor: received, destination: { id: null, address: o.address },
    reference: `refund:${pay.reference}`, actor: o.actor, kind: 'refund', paymentId: o.paymentId,
  }, o.payoutId, approvalsRequired(received, await dualApprovalAboveMinor(c, config, pay.merchant_id, env.environment, rail)), postingId(cause));
}

/**
 * A create step's refusal (a DomainError: insufficient balance, …) fails the activity for good,
 * carrying its code, status and param so the API answers the same typed 4xx as before.
 */
export function refusalFailure(err: unknown): unknown {
  if (!(err instanceof DomainError)) return err;
  const refusal: CreateRefusal = { code: err.code, message: err.message, param: err.param ?? null, status: err.status };
  return ApplicationFailure.nonRetryable(err.message, err.code, refusal);
}

export class PayoutTransitionOutOfOrderError extends Error {
  override name = 'PayoutTransitionOutOfOrderError';
}

export function createPayoutRecordActivities(deps: { pool: Pool; config: StablerailConfig }) {
  const { pool, config } = deps;
  return {
    /**
     * The payout workflow's create step: the row, transition 1 and the hold in one transaction,
     * keyed by payout id (a retry answers the first write). A refusal (insufficient balance, …)
     * writes nothing and fails for good with its code, which the API answers as a typed 4xx.
     */
    async createPayoutRecord(o: { payoutId: string; merchantId: string; environment: 'sandbox' | 'live'; rail: string; create: PayoutCreateRequest }): Promise<{ view: PayoutView; amountMinor: string; approvalsRequired: number }> {
      try {
        const rail = railById(config, o.rail);
        if (!rail) throw new DomainError('rail_unknown', `rail ${o.rail} is not configured`, 'rail');
        const c = o.create;
        const row = c.kind === 'payout'
          ? await insertPayout(pool, config, {
            payoutId: o.payoutId, merchantId: o.merchantId, environment: o.environment, rail, amountMinor: BigInt(c.amountMinor),
            destination: c.destination, reference: c.reference, actor: c.actor, kind: 'payout',
          })
          : await withTx(pool, (tx) => insertRefund(tx, config, { payoutId: o.payoutId, paymentId: c.paymentId, address: c.address, actor: c.actor }));
        // One refund per payment: another refund's row is not this workflow's to drive.
        if (row.id !== o.payoutId) throw new DomainError('refund_exists', `payment ${row.payment_id} already has refund ${row.id}`, 'decision', 409);
        return { view: payoutObject(row, config, await payoutApprovals(pool, row.id)), amountMinor: row.amount_minor, approvalsRequired: row.approvals_required };
      } catch (err) {
        throw refusalFailure(err);
      }
    },

    async recordPayoutTransition(t: PayoutTransitionRecord): Promise<{ eventId: string; inserted: boolean }> {
      assertPayoutTransition(t.from, t.to);
      return withTx(pool, async (c) => {
        const existing = await records.recordedPayoutEvent(c, t.payoutId, t.seq);
        if (existing) return { eventId: existing, inserted: false };
        const row = await records.advancePayout(c, { payoutId: t.payoutId, seq: t.seq, to: t.to, from: t.from ?? '', failureCode: t.failureCode ?? null, sendKey: t.sendKey });
        if (!row) throw new PayoutTransitionOutOfOrderError(`payout ${t.payoutId} is not at seq ${t.seq - 1} in status ${t.from}`);
        return { ...(await writePayoutTransition(c, config, row, t)), inserted: true };
      });
    },

    /** One operator's approval; the same operator again changes nothing and says so. */
    async recordPayoutApproval(a: { payoutId: string; operator: string; credentialId?: string; reason: string }): Promise<{ inserted: boolean; operators: string[] }> {
      return withTx(pool, async (c) => {
        const inserted = await records.insertApproval(c, a.payoutId, a.operator, a.reason);
        if (inserted) {
          // The actor names the operator and the credential they used; the approval row counts the operator.
          const actor = a.credentialId ? `${a.operator}@${a.credentialId}` : a.operator;
          await appendEvidence(c, { kind: 'payout.approval', subject: a.payoutId, actor, payload: { reason: a.reason, operator_id: a.operator, credential_id: a.credentialId ?? null }, dedupeKey: `payout-approval:${a.payoutId}:${a.operator}` });
        }
        return { inserted, operators: (await payoutApprovals(c, a.payoutId)).map((r) => r.operator) };
      });
    },

    /** Cancel or failure: the hold goes back where it came from, as a reversal of the hold entry. */
    async releasePayoutHold(o: { payoutId: string }): Promise<string[]> {
      return withTx(pool, async (c) => {
        const row = await getPayoutRow(c, o.payoutId);
        if (!row) throw new Error(`no payout ${o.payoutId}`);
        const rev = await reversalOf(c, row.hold_entry_id, `payout:${row.id}/release`, 'payout_release');
        if (!rev) throw new Error(`payout ${row.id} has no hold entry ${row.hold_entry_id}`);
        rev.memo = `payout ${row.id} ${row.status}: hold released`;
        return (await postEntries(c, [rev])).inserted;
      });
    },

    /**
     * The transaction is final enough: post what it did. The token left the wallet only if the
     * receipt says executed AND the token's Transfer log pays the destination the amount;
     * the network fee was paid either way and is posted in the native asset.
     */
    async settlePayout(o: { payoutId: string; outcome: TransferOutcomePayload }): Promise<{ paid: boolean; failureCode: string | null; releaseHold: boolean }> {
      const row = await getPayoutRow(pool, o.payoutId);
      if (!row) throw new Error(`no payout ${o.payoutId}`);
      const rail = railById(config, row.rail);
      if (!rail) throw new Error(`rail ${row.rail} is not configured`);
      const paid = o.outcome.executed && o.outcome.transfers.some((t) => t.to === row.destination_address && t.amountMinor === row.amount_minor);
      const failureCode = paid ? null : o.outcome.executed ? 'transfer_log_missing' : 'transaction_reverted';
      const native = nativeAssetOf(rail);
      const postings: Posting[] = [];
      if (paid) {
        const hold = account(row, 'merchant', row.merchant_id, 'payout_hold', row.asset);
        const custody = account(row, 'rail', row.rail, 'custody', row.asset);
        postings.push({
          cause: `payout:${row.id}/paid/tx:${o.outcome.txHash}`, environment: row.environment, gate: row.kind === 'refund' ? 'refund_paid' : 'payout_paid',
          merchantId: row.merchant_id, paymentId: row.payment_id ?? undefined, payoutId: row.id, rail: row.rail, txHash: o.outcome.txHash, logIndex: o.outcome.transfers.find((t) => t.to === row.destination_address)?.logIndex,
          memo: `${row.kind} ${row.id} confirmed on chain`,
          lines: [{ account: hold, amountMinor: BigInt(row.amount_minor) }, { account: custody, amountMinor: -BigInt(row.amount_minor) }],
        });
      }
      const fee = BigInt(o.outcome.feeMinor);
      if (fee > 0n) postings.push(networkFeePosting(row.environment, rail, native, fee, o.outcome.txHash, `${row.kind} ${row.id}`, row.merchant_id, row.id));
      await withTx(pool, async (c) => {
        await postEntries(c, postings);
        await records.setNetworkFee(c, row.id, { minor: fee.toString(), asset: native, blockHeight: o.outcome.blockHeight });
      });
      return { paid, failureCode, releaseHold: !o.outcome.executed };
    },

    /**
     * At `confirmations_required` (payouts since #16): the transfer is in flight, not final.
     * Paid: hold → the merchant's payout_in_flight; the network fee either way. Keyed by the
     * round (how often a reorg reopened the payout), so a re-confirmation posts again after its
     * reversal.
     */
    async confirmPayout(o: { payoutId: string; outcome: TransferOutcomePayload; round: number }): Promise<{ paid: boolean; failureCode: string | null; releaseHold: boolean }> {
      const row = await getPayoutRow(pool, o.payoutId);
      if (!row) throw new Error(`no payout ${o.payoutId}`);
      const rail = railById(config, row.rail);
      if (!rail) throw new Error(`rail ${row.rail} is not configured`);
      const plan = payoutConfirmationPostings(row, rail, o.outcome, o.round);
      await withTx(pool, async (c) => {
        await postEntries(c, plan.postings);
        await records.setNetworkFee(c, row.id, { minor: o.outcome.feeMinor, asset: nativeAssetOf(rail), blockHeight: o.outcome.blockHeight });
      });
      return { paid: plan.paid, failureCode: plan.failureCode, releaseHold: !o.outcome.executed };
    },

    /** At the rail's finality: payout_in_flight → rail custody; the money has left for good. */
    async settlePayoutFinal(o: { payoutId: string; txHash: string }): Promise<void> {
      const row = await getPayoutRow(pool, o.payoutId);
      if (!row) throw new Error(`no payout ${o.payoutId}`);
      await withTx(pool, (c) => postEntries(c, [payoutSettledPosting(row, o.txHash)]));
    },

    /**
     * A reorg removed the confirmed transaction: the round's postings (in flight and network
     * fee) are reversed, so the hold is whole again until the transfer is mined once more.
     */
    async reopenPayout(o: { payoutId: string; round: number; txHash: string }): Promise<string[]> {
      const row = await getPayoutRow(pool, o.payoutId);
      if (!row) throw new Error(`no payout ${o.payoutId}`);
      const rail = railById(config, row.rail);
      if (!rail) throw new Error(`rail ${row.rail} is not configured`);
      return withTx(pool, async (c) => {
        const reversals: Posting[] = [];
        for (const cause of [payoutInFlightCause(row.id, o.round), payoutFeeCause(rail, o.txHash, o.round)]) {
          const rev = await reversalOf(c, postingId(cause), `${cause}/reorged`, 'payout_reorged');
          if (rev) reversals.push({ ...rev, memo: `payout ${row.id}: transaction ${o.txHash} reorged out, posting reversed` });
        }
        await records.setNetworkFee(c, row.id, null);
        return (await postEntries(c, reversals)).inserted;
      });
    },
  };
}

const payoutInFlightCause = (payoutId: string, round: number) => `payout:${payoutId}/in_flight/r${round}`;
/** The first confirmation keeps the network-fee cause every other send uses; a re-confirmation after a reorg adds its round. */
const payoutFeeCause = (rail: RailConfig, txHash: string, round: number) => `network_fee:${rail.id}:${txHash.toLowerCase()}${round ? `/r${round}` : ''}`;

/** What a confirmation posts, and whether the transfer paid the destination the amount. */
export function payoutConfirmationPostings(row: PayoutRow, rail: RailConfig, outcome: TransferOutcomePayload, round: number): { paid: boolean; failureCode: string | null; postings: Posting[] } {
  const paid = outcome.executed && outcome.transfers.some((t) => t.to === row.destination_address && t.amountMinor === row.amount_minor);
  const failureCode = paid ? null : outcome.executed ? 'transfer_log_missing' : 'transaction_reverted';
  const postings: Posting[] = [];
  if (paid) {
    postings.push({
      cause: payoutInFlightCause(row.id, round), environment: row.environment, gate: row.kind === 'refund' ? 'refund_in_flight' : 'payout_in_flight',
      merchantId: row.merchant_id, paymentId: row.payment_id ?? undefined, payoutId: row.id, rail: row.rail, txHash: outcome.txHash, logIndex: outcome.transfers.find((t) => t.to === row.destination_address)?.logIndex,
      memo: `${row.kind} ${row.id} confirmed on chain: in flight until final`,
      lines: [
        { account: account(row, 'merchant', row.merchant_id, 'payout_hold', row.asset), amountMinor: BigInt(row.amount_minor) },
        { account: account(row, 'merchant', row.merchant_id, 'payout_in_flight', row.asset), amountMinor: -BigInt(row.amount_minor) },
      ],
    });
  }
  const fee = BigInt(outcome.feeMinor);
  if (fee > 0n) {
    const native = nativeAssetOf(rail);
    postings.push({ ...networkFeePosting(row.environment, rail, native, fee, outcome.txHash, `${row.kind} ${row.id}`, row.merchant_id, row.id), cause: payoutFeeCause(rail, outcome.txHash, round) });
  }
  return { paid, failureCode, postings };
}

/** Final: the money leaves rail custody for good. One per payout, whatever the rounds before. */
export function payoutSettledPosting(row: PayoutRow, txHash: string): Posting {
  return {
    cause: `payout:${row.id}/settled`, environment: row.environment, gate: row.kind === 'refund' ? 'refund_paid' : 'payout_paid',
    merchantId: row.merchant_id, paymentId: row.payment_id ?? undefined, payoutId: row.id, rail: row.rail, txHash,
    memo: `${row.kind} ${row.id} final on chain`,
    lines: [
      { account: account(row, 'merchant', row.merchant_id, 'payout_in_flight', row.asset), amountMinor: BigInt(row.amount_minor) },
      { account: account(row, 'rail', row.rail, 'custody', row.asset), amountMinor: -BigInt(row.amount_minor) },
    ],
  };
}

/** Network fees are the platform's cost, paid from the rail's wallets in the native asset. */
export function networkFeePosting(environment: 'sandbox' | 'live', rail: RailConfig, native: string, feeMinor: bigint, txHash: string, what: string, merchantId?: string, payoutId?: string): Posting {
  return {
    cause: `network_fee:${rail.id}:${txHash.toLowerCase()}`,
    environment,
    gate: 'network_fee',
    merchantId,
    payoutId,
    rail: rail.id,
    txHash,
    memo: `network fee of ${what}`,
    lines: [
      { account: { environment, ownerType: 'platform', ownerId: 'stablerail', purpose: 'network_fees', asset: native }, amountMinor: feeMinor },
      { account: { environment, ownerType: 'rail', ownerId: rail.id, purpose: 'custody', asset: native }, amountMinor: -feeMinor },
    ],
  };
}

export type PayoutRecordActivities = ReturnType<typeof createPayoutRecordActivities>;
