// Commerce truth: a batch of orders upserted in one TypedSQL statement (prisma/sql/ordersUpsert.sql:
// the CSV import sends 1000 at a time), and one order read back by reference through Prisma Client.
import type { Pool } from '../db.js';
import { prismaOf } from '../db.js';
import { newId } from '../ids.js';
import { ordersUpsert } from './sql/ordersUpsert.js';
import { after, NEWEST_FIRST, type PageCursor } from './paging.js';

/** An order as orderObject reads it: the amount as a decimal string of minor units. */
export interface OrderRow {
  id: string;
  reference: string;
  amount_minor: string;
  asset: string;
  status: string;
  created_at: Date;
  updated_at: Date;
}

export async function findOrderByReference(pool: Pool, scope: { merchantId: string; environment: string }, reference: string): Promise<OrderRow | undefined> {
  const o = await prismaOf(pool).order.findUnique({ where: { merchantId_environment_reference: { merchantId: scope.merchantId, environment: scope.environment, reference } } });
  return o ? orderRowOf(o) : undefined;
}

export interface OrderUpsert {
  reference: string;
  amountMinor: bigint;
  asset: string;
  status: string;
}

/** The orders this batch created or changed; an order sent again unchanged is not rewritten. */
export async function upsertOrderBatch(pool: Pool, scope: { merchantId: string; environment: string }, orders: OrderUpsert[]): Promise<OrderRow[]> {
  const rows = await prismaOf(pool).$queryRawTyped(ordersUpsert(
    scope.merchantId, scope.environment,
    orders.map(() => newId('ord')), orders.map((o) => o.reference), orders.map((o) => o.amountMinor.toString()), orders.map((o) => o.asset), orders.map((o) => o.status),
  ));
  return rows.map((o) => orderRowOf({ ...o, amountMinor: o.amount_minor, createdAt: o.created_at, updatedAt: o.updated_at }));
}

export type OrderScope = { merchantId: string; environment: string };

function orderRowOf(o: { id: string; reference: string; amountMinor: { toFixed(): string }; asset: string; status: string; createdAt: Date; updatedAt: Date }): OrderRow {
  return { id: o.id, reference: o.reference, amount_minor: o.amountMinor.toFixed(), asset: o.asset, status: o.status, created_at: o.createdAt, updated_at: o.updatedAt };
}

/** Where a page starts: one of the scope's orders, or null. */
export function orderCursor(pool: Pool, id: string, scope: OrderScope): Promise<PageCursor | null> {
  return prismaOf(pool).order.findFirst({ where: { id, merchantId: scope.merchantId, environment: scope.environment }, select: { createdAt: true, id: true } });
}

/** The scope's orders (one reference's, if given), newest first after the cursor. */
export async function ordersPage(pool: Pool, scope: OrderScope & { reference?: string }, cursor: PageCursor | null, limit: number): Promise<OrderRow[]> {
  const rows = await prismaOf(pool).order.findMany({ where: { merchantId: scope.merchantId, environment: scope.environment, reference: scope.reference, ...after(cursor) }, orderBy: NEWEST_FIRST, take: limit });
  return rows.map(orderRowOf);
}
