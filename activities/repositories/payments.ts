// Payments. Views are plain reads through Prisma Client (by id, by public id, and keyset-paged
// lists), mapped to the row shape the API's objects are built from. A transition's writes are
// TypedSQL run on the recording activity's pg transaction and prepared once per connection
// (typedRows): every payment runs several, and its transaction ends holding the evidence chain's
// lock (docs/benchmarks.md, payments). The create transaction's one statement stays in
// activities/payment.ts, commented with its figure.
import type { Payment, Prisma } from '../../generated/prisma/client.js';
import type { PaymentStatus } from '../../workflows/rules/transitions.js';
import type { AnyTx, Pool } from '../db.js';
import { prismaOf, typedRows } from '../db.js';
import { depositAddressRelease } from './sql/depositAddressRelease.js';
import { paymentAdvance } from './sql/paymentAdvance.js';
import { paymentEventInsert } from './sql/paymentEventInsert.js';
import { paymentRefundAddress } from './sql/paymentRefundAddress.js';
import { paymentTransitionInsert } from './sql/paymentTransitionInsert.js';
import { paymentTransitionRecorded } from './sql/paymentTransitionRecorded.js';
import { paymentTxHashes } from './sql/paymentTxHashes.js';
import { after, NEWEST_FIRST, type PageCursor } from './paging.js';

/** A payment as the API's objects read it: amounts as decimal strings of minor units, never floats. */
export interface PaymentRow {
  id: string;
  public_id: string;
  merchant_id: string;
  environment: 'sandbox' | 'live';
  rail: string;
  asset: string;
  amount_minor: string;
  amount_received_minor: string;
  status: PaymentStatus;
  exception_code: string | null;
  deposit_address: string;
  address_index: string;
  reference: string;
  metadata: Record<string, string>;
  expires_at: Date;
  created_at: Date;
  updated_at: Date;
  last_seq: number;
  /** Left by the payer on the public page while the payment is under review (first one wins). */
  refund_address?: string | null;
}

/** The columns of PaymentRow, for the raw statements that return one (RETURNING, CTEs). */
export const PAYMENT_COLUMNS = `id, public_id, merchant_id, environment, rail, asset, amount_minor::text, amount_received_minor::text,
  status, exception_code, deposit_address, address_index::text, reference, metadata, expires_at, created_at, updated_at, last_seq, refund_address`;

/** Prisma's model to the row shape. Decimal(78,0) amounts print every digit with toFixed(). */
export function paymentRowOf(p: Payment): PaymentRow {
  return {
    id: p.id,
    public_id: p.publicId,
    merchant_id: p.merchantId,
    environment: p.environment as PaymentRow['environment'],
    rail: p.rail,
    asset: p.asset,
    amount_minor: p.amountMinor.toFixed(),
    amount_received_minor: p.amountReceivedMinor.toFixed(),
    status: p.status as PaymentStatus,
    exception_code: p.exceptionCode,
    deposit_address: p.depositAddress,
    address_index: p.addressIndex.toString(),
    reference: p.reference,
    metadata: (p.metadata ?? {}) as Record<string, string>,
    expires_at: p.expiresAt,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    last_seq: p.lastSeq,
    refund_address: p.refundAddress,
  };
}

const ID = /^pay_[0-9A-Za-z]{24}$/;
const PUBLIC_ID = /^pub_[0-9A-Za-z]{24}$/;

/** A payment by id; anything that is not a payment id is no payment. */
export async function findPayment(pool: Pool, id: string): Promise<PaymentRow | undefined> {
  if (!ID.test(id)) return undefined;
  const p = await prismaOf(pool).payment.findUnique({ where: { id } });
  return p ? paymentRowOf(p) : undefined;
}

/**
 * What the chain shows received, between transitions (a second transfer while `detected` or under
 * review): only at the sequence the workflow last recorded, so a transition in flight wins.
 */
export async function setAmountReceived(pool: Pool, paymentId: string, seq: number, amountReceivedMinor: string): Promise<boolean> {
  const { count } = await prismaOf(pool).payment.updateMany({
    where: { id: paymentId, lastSeq: seq },
    data: { amountReceivedMinor, updatedAt: new Date() },
  });
  return count === 1;
}

/** A payment by the public id its payer page and status route use. */
export async function findPaymentByPublicId(pool: Pool, publicId: string): Promise<PaymentRow | undefined> {
  if (!PUBLIC_ID.test(publicId)) return undefined;
  const p = await prismaOf(pool).payment.findUnique({ where: { publicId } });
  return p ? paymentRowOf(p) : undefined;
}

export interface PaymentFilter {
  merchantId?: string;
  environment?: string;
  status?: string;
  reference?: string;
}

/** Where a page starts: a payment of the filter's scope, or null when the cursor names none. */
export function pageCursor(pool: Pool, id: string, scope: PaymentFilter): Promise<PageCursor | null> {
  return prismaOf(pool).payment.findFirst({ where: { id, merchantId: scope.merchantId, environment: scope.environment }, select: { createdAt: true, id: true } });
}

/**
 * Newest first, keyset-paged on (created_at, id) after the cursor, served by the
 * (merchant_id, environment, created_at DESC, id DESC) index. Returns up to `limit` rows.
 */
export async function paymentsPage(pool: Pool, filter: PaymentFilter, cursor: PageCursor | null, limit: number): Promise<PaymentRow[]> {
  const where: Prisma.PaymentWhereInput = { merchantId: filter.merchantId, environment: filter.environment, status: filter.status, reference: filter.reference, ...after(cursor) };
  const rows = await prismaOf(pool).payment.findMany({ where, orderBy: NEWEST_FIRST, take: limit });
  return rows.map(paymentRowOf);
}

/** The transactions that paid a payment (reorged ones left out), first mined first. */
export async function txHashesOf(pool: Pool, rail: string, paymentId: string, limit: number): Promise<string[]> {
  return (await typedRows(pool, paymentTxHashes(rail, paymentId, limit), 'payment_tx_hashes')).map((r) => r.tx_hash);
}

/** The event of the transition recorded at this seq, if it is (a retried activity finds it). */
export async function recordedTransition(c: AnyTx, paymentId: string, seq: number): Promise<{ id: string; type: string } | undefined> {
  return (await typedRows(c, paymentTransitionRecorded(paymentId, seq), 'payment_transition_recorded'))[0];
}

export interface TransitionRow {
  paymentId: string;
  seq: number;
  from: string | null;
  to: string;
  cause: string;
  actor: string;
  exceptionCode: string | null;
  reason?: string;
  amountReceivedMinor: string;
}

/** The payment moved on by the transition; undefined when it is not at the transition's start. */
export async function advancePayment(c: AnyTx, t: TransitionRow): Promise<PaymentRow | undefined> {
  const [row] = await typedRows(c, paymentAdvance(t.paymentId, t.seq, t.to, t.exceptionCode, t.amountReceivedMinor, t.from ?? ''), 'payment_advance');
  return row as PaymentRow | undefined;
}

export async function insertTransition(c: AnyTx, t: TransitionRow, at: Date): Promise<void> {
  await typedRows(c, paymentTransitionInsert(t.paymentId, t.seq, t.from, t.to, t.cause, t.actor, t.exceptionCode, t.reason ?? null, t.amountReceivedMinor, at), 'payment_transition_insert');
}

export async function insertPaymentEvent(c: AnyTx, e: { id: string; type: string; paymentId: string; sequence: number; data: unknown; at: Date }): Promise<void> {
  await typedRows(c, paymentEventInsert(e.id, e.type, e.paymentId, e.sequence, JSON.stringify(e.data), e.at), 'payment_event_insert');
}

/** Sets the refund address when none is set; answers the one set now, or the one kept, or null for no payment. */
export async function setRefundAddressOnce(c: AnyTx, paymentId: string, address: string): Promise<{ set: boolean; address: string | null }> {
  const [row] = await typedRows(c, paymentRefundAddress(paymentId, address));
  return row?.set_address ? { set: true, address: row.set_address } : { set: false, address: row?.kept_address ?? null };
}

/** Returns a payment's deposit address to the pool; answers how many were released (0 or 1). */
export async function releaseAddressOf(c: AnyTx | Pool, paymentId: string): Promise<number> {
  return (await typedRows(c, depositAddressRelease(paymentId), 'deposit_address_release'))[0]?.released ?? 0;
}
