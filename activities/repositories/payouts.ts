// Payouts and refunds. The API's reads (by id, keyset-paged lists with their approvals in one
// query per page, a payment's live refund, the payout allowlist) go through Prisma Client. The
// payout workflow's records (the hold's checks, the row, each transition with its event, the
// approvals, the network fee) are TypedSQL run by typedRows on the activity's pg transaction:
// they share it with the ledger's postings (raw pg, docs/benchmarks.md, ledger) and the
// evidence chain's append. The balance checks the hold makes are in ledger.ts.
import { Prisma, type Payout, type PayoutDestination } from '../../generated/prisma/client.js';
import type { PayoutDestinationStatus, PayoutStatus } from '../../workflows/rules/payout-transitions.js';
import type { AnyTx, Pool } from '../db.js';
import { prismaOf, typedRows } from '../db.js';
import { paymentLockForRefund } from './sql/paymentLockForRefund.js';
import { payoutAdvance } from './sql/payoutAdvance.js';
import { payoutApprovalInsert } from './sql/payoutApprovalInsert.js';
import { payoutApprovalsOf } from './sql/payoutApprovalsOf.js';
import { payoutById } from './sql/payoutById.js';
import { payoutDestinationLocked } from './sql/payoutDestinationLocked.js';
import { payoutDestinationStatusShared } from './sql/payoutDestinationStatusShared.js';
import { payoutDualApprovalAbove } from './sql/payoutDualApprovalAbove.js';
import { payoutEventInsert } from './sql/payoutEventInsert.js';
import { payoutInsert } from './sql/payoutInsert.js';
import { payoutNetworkFeeSet } from './sql/payoutNetworkFeeSet.js';
import { payoutTransitionInsert } from './sql/payoutTransitionInsert.js';
import { payoutTransitionRecorded } from './sql/payoutTransitionRecorded.js';
import { refundOpenOfPayment } from './sql/refundOpenOfPayment.js';
import { after, NEWEST_FIRST, type PageCursor } from './paging.js';

export interface PayoutRow {
  id: string;
  merchant_id: string;
  environment: 'sandbox' | 'live';
  kind: 'payout' | 'refund';
  rail: string;
  asset: string;
  amount_minor: string;
  destination_id: string | null;
  destination_address: string;
  reference: string;
  payment_id: string | null;
  status: PayoutStatus;
  approvals_required: number;
  last_seq: number;
  hold_entry_id: string;
  tx_hash: string | null;
  nonce: number | null;
  from_address: string | null;
  network_fee_minor: string | null;
  network_fee_asset: string | null;
  block_height: string | null;
  failure_code: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

function payoutRowOf(p: Payout): PayoutRow {
  return {
    id: p.id, merchant_id: p.merchantId, environment: p.environment as PayoutRow['environment'], kind: p.kind as PayoutRow['kind'], rail: p.rail, asset: p.asset,
    amount_minor: p.amountMinor.toFixed(), destination_id: p.destinationId, destination_address: p.destinationAddress, reference: p.reference,
    payment_id: p.paymentId, status: p.status as PayoutStatus, approvals_required: p.approvalsRequired, last_seq: p.lastSeq, hold_entry_id: p.holdEntryId,
    tx_hash: p.txHash, nonce: p.nonce, from_address: p.fromAddress, network_fee_minor: p.networkFeeMinor?.toFixed() ?? null, network_fee_asset: p.networkFeeAsset,
    block_height: p.blockHeight?.toString() ?? null, failure_code: p.failureCode, created_by: p.createdBy, created_at: p.createdAt, updated_at: p.updatedAt,
  };
}

export type Approval = { operator: string; reason: string; created_at: Date };

export async function findPayout(pool: Pool, id: string): Promise<PayoutRow | undefined> {
  if (!/^po_[0-9A-Za-z]{24}$/.test(id)) return undefined;
  const p = await prismaOf(pool).payout.findUnique({ where: { id } });
  return p ? payoutRowOf(p) : undefined;
}

export interface PayoutScope {
  environment: string;
  /** Absent for an operator: every merchant's. */
  merchantId?: string;
}

/** Where a page starts: a payout in the scope, or null (another merchant's id is never a position). */
export function payoutCursor(pool: Pool, id: string, scope: PayoutScope): Promise<PageCursor | null> {
  return prismaOf(pool).payout.findFirst({ where: { id, environment: scope.environment, merchantId: scope.merchantId }, select: { createdAt: true, id: true } });
}

/** Newest first after the cursor, each with its approvals in the order they were given. */
export async function payoutsPage(pool: Pool, scope: PayoutScope & { status?: string }, cursor: PageCursor | null, limit: number): Promise<Array<{ row: PayoutRow; approvals: Approval[] }>> {
  const prisma = prismaOf(pool);
  const rows = await prisma.payout.findMany({ where: { environment: scope.environment, merchantId: scope.merchantId, status: scope.status, ...after(cursor) }, orderBy: NEWEST_FIRST, take: limit });
  const approvals = rows.length
    ? await prisma.payoutApproval.findMany({ where: { payoutId: { in: rows.map((r) => r.id) } }, orderBy: [{ createdAt: 'asc' }, { operator: 'asc' }] })
    : [];
  return rows.map((r) => ({
    row: payoutRowOf(r),
    approvals: approvals.filter((a) => a.payoutId === r.id).map((a) => ({ operator: a.operator, reason: a.reason, created_at: a.createdAt })),
  }));
}

/** A payment's refund: the live one if any, else the latest that failed or was canceled. */
export async function refundOfPayment(pool: Pool, paymentId: string): Promise<PayoutRow | undefined> {
  const refunds = await prismaOf(pool).payout.findMany({ where: { paymentId, kind: 'refund' }, orderBy: { createdAt: 'desc' } });
  const live = refunds.find((r) => r.status !== 'failed' && r.status !== 'canceled') ?? refunds[0];
  return live ? payoutRowOf(live) : undefined;
}

export interface DestinationRow {
  id: string;
  merchant_id: string;
  environment: 'sandbox' | 'live';
  rail: string;
  address: string;
  label: string;
  status: PayoutDestinationStatus;
  requested_by: string;
  decided_by: string | null;
  reason: string | null;
  usable_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function destinationRowOf(d: PayoutDestination): DestinationRow {
  return {
    id: d.id, merchant_id: d.merchantId, environment: d.environment as DestinationRow['environment'], rail: d.rail, address: d.address, label: d.label,
    status: d.status as PayoutDestinationStatus, requested_by: d.requestedBy, decided_by: d.decidedBy, reason: d.reason, usable_at: d.usableAt,
    created_at: d.createdAt, updated_at: d.updatedAt,
  };
}

export const DESTINATIONS_LISTED_MAX = 500;

/** A page position: one of the merchant's own entries in that environment, or null. */
export function destinationCursor(pool: Pool, id: string, scope: { merchantId: string; environment: string }): Promise<PageCursor | null> {
  return prismaOf(pool).payoutDestination.findFirst({ where: { id, merchantId: scope.merchantId, environment: scope.environment }, select: { createdAt: true, id: true } });
}

/** The merchant's allowlist in an environment, newest first, after the cursor. */
export async function destinationsOf(pool: Pool, merchantId: string, environment: string, cursor: PageCursor | null, limit: number): Promise<DestinationRow[]> {
  const rows = await prismaOf(pool).payoutDestination.findMany({ where: { merchantId, environment, ...after(cursor) }, orderBy: NEWEST_FIRST, take: limit });
  return rows.map(destinationRowOf);
}

/** The operators' queue: entries in a status (a request awaiting a decision first), oldest first; `take` rows at most. */
export async function destinationsInStatus(pool: Pool, status: string, take = DESTINATIONS_LISTED_MAX): Promise<DestinationRow[]> {
  const rows = await prismaOf(pool).payoutDestination.findMany({ where: { status }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take });
  return rows.map(destinationRowOf);
}

// ---- the payout workflow's records, on its pg transaction (or the pool for a plain read) ----

type Db = AnyTx | Pool;

export async function payoutRowById(c: Db, id: string): Promise<PayoutRow | undefined> {
  return (await typedRows(c, payoutById(id), 'payout_by_id'))[0] as PayoutRow | undefined;
}

export function approvalsOf(c: Db, payoutId: string): Promise<Array<{ operator: string; reason: string; created_at: Date }>> {
  return typedRows(c, payoutApprovalsOf(payoutId), 'payout_approvals_of');
}

/** The merchant's stored dual-approval threshold (minor units scaled to 6 places), if one is set. */
export async function storedDualApprovalMinor6(c: Db, merchantId: string, environment: string): Promise<bigint | undefined> {
  const [row] = await typedRows(c, payoutDualApprovalAbove(merchantId, environment));
  return row?.minor6 ? BigInt(row.minor6) : undefined;
}

export async function destinationStatusShared(c: AnyTx, id: string): Promise<string | undefined> {
  return (await typedRows(c, payoutDestinationStatusShared(id)))[0]?.status;
}

export async function insertPayoutRecord(c: AnyTx, p: { id: string; merchantId: string; environment: string; kind: string; rail: string; asset: string; amountMinor: string; destinationId: string | null; destinationAddress: string; reference: string; paymentId: string | null; approvalsRequired: number; holdEntryId: string; createdBy: string }): Promise<PayoutRow> {
  const [row] = await typedRows(c, payoutInsert(p.id, p.merchantId, p.environment, p.kind, p.rail, p.asset, p.amountMinor, p.destinationId, p.destinationAddress, p.reference, p.paymentId, p.approvalsRequired, p.holdEntryId, p.createdBy));
  if (!row) throw new Error(`no merchant ${p.merchantId} for payout ${p.id}`);
  return row as PayoutRow;
}

export async function insertPayoutTransition(c: AnyTx, t: { payoutId: string; seq: number; from: string | null; to: string; cause: string; actor: string; reason?: string | null }, at: Date): Promise<void> {
  await typedRows(c, payoutTransitionInsert(t.payoutId, t.seq, t.from, t.to, t.cause, t.actor, t.reason ?? null, at), 'payout_transition_insert');
}

export async function insertPayoutEvent(c: AnyTx, e: { id: string; type: string; payoutId: string; sequence: number; data: unknown; at: Date }): Promise<void> {
  await typedRows(c, payoutEventInsert(e.id, e.type, e.payoutId, e.sequence, JSON.stringify(e.data), e.at), 'payout_event_insert');
}

/** The payment a refund is of, locked to the transaction's end: two refund decisions serialize here. */
export async function lockPaymentForRefund(c: AnyTx, paymentId: string) {
  return (await typedRows(c, paymentLockForRefund(paymentId)))[0];
}

export async function openRefundOf(c: AnyTx, paymentId: string): Promise<string | undefined> {
  return (await typedRows(c, refundOpenOfPayment(paymentId)))[0]?.id;
}

export async function recordedPayoutEvent(c: AnyTx, payoutId: string, seq: number): Promise<string | undefined> {
  return (await typedRows(c, payoutTransitionRecorded(payoutId, seq), 'payout_transition_recorded'))[0]?.id;
}

/** The payout moved on by the transition; undefined when it is not at the transition's start. */
export async function advancePayout(c: AnyTx, t: { payoutId: string; seq: number; to: string; from: string; failureCode: string | null; sendKey: string | null }): Promise<PayoutRow | undefined> {
  return (await typedRows(c, payoutAdvance(t.payoutId, t.seq, t.to, t.from, t.failureCode, t.sendKey), 'payout_advance'))[0] as PayoutRow | undefined;
}

/** True when this operator's approval is new. */
export async function insertApproval(c: AnyTx, payoutId: string, operator: string, reason: string): Promise<boolean> {
  return (await typedRows(c, payoutApprovalInsert(payoutId, operator, reason))).length > 0;
}

export async function setNetworkFee(c: AnyTx, payoutId: string, fee: { minor: string; asset: string; blockHeight: number } | null): Promise<void> {
  await typedRows(c, payoutNetworkFeeSet(payoutId, fee?.minor ?? null, fee?.asset ?? null, fee?.blockHeight ?? null));
}

/** The merchant's dual-approval threshold (minor units scaled to 6 places), set or replaced, in the caller's Prisma transaction. */
export async function setDualApprovalMinor6(tx: Prisma.TransactionClient, merchantId: string, environment: string, minor6: bigint, updatedBy: string): Promise<void> {
  const value = { dualApprovalAboveMinor: new Prisma.Decimal(minor6.toString()), updatedBy, updatedAt: new Date() };
  await tx.merchantPayoutSettings.upsert({ where: { merchantId_environment: { merchantId, environment } }, create: { merchantId, environment, ...value }, update: value });
}

// ---- the payout allowlist's records, through Prisma Client (writes in the caller's transaction) ----

export async function findDestination(pool: Pool, id: string): Promise<DestinationRow | undefined> {
  const d = await prismaOf(pool).payoutDestination.findUnique({ where: { id } });
  return d ? destinationRowOf(d) : undefined;
}

/** A new allowlist entry, awaiting approval; a second live entry for the address fails on the unique index. */
export async function insertDestinationRow(tx: Prisma.TransactionClient, d: { id: string; merchantId: string; environment: string; rail: string; address: string; label: string; requestedBy: string }): Promise<DestinationRow> {
  return destinationRowOf(await tx.payoutDestination.create({ data: { ...d, status: 'pending_approval' } }));
}

/** The live (not rejected or revoked) entry for an address or id, or null. */
export async function liveDestination(pool: Pool, o: { merchantId: string; environment: string; rail: string; idOrAddress: string }): Promise<DestinationRow | null> {
  const d = await prismaOf(pool).payoutDestination.findFirst({
    where: { merchantId: o.merchantId, environment: o.environment, rail: o.rail, OR: [{ id: o.idOrAddress }, { address: o.idOrAddress }], status: { notIn: ['rejected', 'revoked'] } },
  });
  return d ? destinationRowOf(d) : null;
}

/**
 * The entry moved to `status` unless it is there already or ended (rejected, revoked); a null
 * decider, reason or usable time keeps the one recorded. True when it moved.
 */
export async function decideDestination(tx: Prisma.TransactionClient, id: string, d: { status: string; decidedBy: string | null; reason: string | null; usableAt: Date | null }): Promise<boolean> {
  const { count } = await tx.payoutDestination.updateMany({
    where: { id, status: { notIn: [d.status, 'rejected', 'revoked'] } },
    data: { status: d.status, decidedBy: d.decidedBy ?? undefined, reason: d.reason ?? undefined, usableAt: d.usableAt ?? undefined, updatedAt: new Date() },
  });
  return count === 1;
}

export async function lockDestinationStatus(tx: Prisma.TransactionClient, id: string): Promise<string | undefined> {
  return (await tx.$queryRawTyped(payoutDestinationLocked(id)))[0]?.status;
}

export async function revokeDestinationRow(tx: Prisma.TransactionClient, id: string, decidedBy: string, reason: string): Promise<void> {
  await tx.payoutDestination.update({ where: { id }, data: { status: 'revoked', decidedBy, reason, updatedAt: new Date() } });
}

/** The payouts to a destination not yet signed (pending approval or approved), oldest first. */
export async function unsignedPayoutsTo(tx: Prisma.TransactionClient, destinationId: string): Promise<string[]> {
  const rows = await tx.payout.findMany({ where: { destinationId, status: { in: ['pending_approval', 'approved'] } }, orderBy: { createdAt: 'asc' }, select: { id: true } });
  return rows.map((r) => r.id);
}

/**
 * Whether an address is one of Stablerail's own deposit addresses (any configured rail, any
 * merchant): a payout there would land in the platform's custody and be read as a payment's
 * money. Addresses are compared in their canonical form (EVM checksummed, TRON base58), as both
 * derivation and normalizeRailAddress write them, so the (rail, address) index answers it.
 */
export async function isDepositAddress(pool: Pool, rails: ReadonlyArray<{ id: string }>, address: string): Promise<boolean> {
  return (await prismaOf(pool).depositAddress.count({ where: { rail: { in: rails.map((r) => r.id) }, address } })) > 0;
}
