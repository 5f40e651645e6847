// Payment views: plain reads through Prisma Client (by id, by public id, and keyset-paged lists),
// mapped to the row shape the API's objects are built from. The writes (the create transaction
// and each transition with its event and evidence entry) stay raw statements on one
// transaction in activities/payment.ts, as measured in docs/benchmarks.md.
import type { Payment, Prisma } from '../../generated/prisma/client.js';
import type { PaymentStatus } from '../../workflows/rules/transitions.js';
import type { Pool } from '../db.js';
import { prismaOf } from '../db.js';
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
