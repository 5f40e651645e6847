// What the API's /metrics gauges read at scrape time: counts grouped by Prisma Client, and the
// figures only the database's own clock and catalog can give (TypedSQL).
import type { Pool } from '../db.js';
import { prismaOf } from '../db.js';
import { chainCursorGauges as chainCursorGaugesSql } from './sql/chainCursorGauges.js';
import { databaseSize } from './sql/databaseSize.js';
import { payoutsOldestInStatus } from './sql/payoutsOldestInStatus.js';

export async function paymentCounts(pool: Pool) {
  const rows = await prismaOf(pool).payment.groupBy({ by: ['environment', 'status'], _count: { _all: true } });
  return rows.map((r) => ({ environment: r.environment, status: r.status, n: r._count._all }));
}

export async function endpointCounts(pool: Pool) {
  const rows = await prismaOf(pool).webhookEndpoint.groupBy({ by: ['environment', 'status'], _count: { _all: true } });
  return rows.map((r) => ({ environment: r.environment, status: r.status, n: r._count._all }));
}

export function pendingDeliveries(pool: Pool): Promise<number> {
  return prismaOf(pool).webhookDelivery.count({ where: { status: 'pending' } });
}

export async function openChainExceptions(pool: Pool) {
  const rows = await prismaOf(pool).chainException.groupBy({ by: ['rail', 'code'], where: { status: 'open' }, _count: { _all: true } });
  return rows.map((r) => ({ rail: r.rail, code: r.code, n: r._count._all }));
}

export async function openBreaks(pool: Pool) {
  const rows = await prismaOf(pool).reconciliationBreak.groupBy({ by: ['environment', 'class'], where: { status: 'open' }, _count: { _all: true } });
  return rows.map((r) => ({ environment: r.environment, class: r.class, n: r._count._all }));
}

/** prisma/sql/payoutsOldestInStatus.sql */
export function oldestPayoutAges(pool: Pool, statuses: readonly string[]) {
  return prismaOf(pool).$queryRawTyped(payoutsOldestInStatus([...statuses]));
}

/** prisma/sql/databaseSize.sql */
export async function databaseBytes(pool: Pool): Promise<number> {
  const [r] = await prismaOf(pool).$queryRawTyped(databaseSize());
  return r?.bytes ?? 0;
}

/** Every rail's cursor heights and the age of its last update (prisma/sql/chainCursorGauges.sql). */
export function chainCursorGauges(pool: Pool) {
  return prismaOf(pool).$queryRawTyped(chainCursorGaugesSql());
}
