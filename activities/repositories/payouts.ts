// Payouts and refunds as the API reads them: by id, keyset-paged lists with their approvals
// (one query for a whole page's approvals, not one per payout), a payment's live refund, and
// the payout allowlist, through Prisma Client. The payout workflow's writes (the hold, each
// transition with its event and evidence entry) stay raw statements on one transaction in
// activities/payout.ts, where the reads inside those transactions stay too.
import type { Payout, PayoutDestination } from '../../generated/prisma/client.js';
import type { PayoutDestinationStatus, PayoutStatus } from '../../workflows/rules/payout-transitions.js';
import type { Pool } from '../db.js';
import { prismaOf } from '../db.js';
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

/** The columns of PayoutRow, for the statements that return one inside a payout's transaction. */
export const PAYOUT_COLUMNS = `id, merchant_id, environment, kind, rail, asset, amount_minor::text, destination_id, destination_address, reference,
  payment_id, status, approvals_required, last_seq, hold_entry_id, tx_hash, nonce, from_address, network_fee_minor::text, network_fee_asset,
  block_height::text, failure_code, created_by, created_at, updated_at`;

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

/** The merchant's allowlist in an environment, newest first. */
export async function destinationsOf(pool: Pool, merchantId: string, environment: string): Promise<DestinationRow[]> {
  const rows = await prismaOf(pool).payoutDestination.findMany({ where: { merchantId, environment }, orderBy: NEWEST_FIRST, take: DESTINATIONS_LISTED_MAX });
  return rows.map(destinationRowOf);
}

/** The operators' queue: entries in a status (a request awaiting a decision first), oldest first. */
export async function destinationsInStatus(pool: Pool, status: string): Promise<DestinationRow[]> {
  const rows = await prismaOf(pool).payoutDestination.findMany({ where: { status }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: DESTINATIONS_LISTED_MAX });
  return rows.map(destinationRowOf);
}
