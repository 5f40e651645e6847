// The merchant's event log as GET /v1/events reads it: Prisma Client, keyset-paged newest first
// on the (merchant_id, environment, created_at DESC, id DESC) index. Events are written in the
// transaction of the change they announce (activities/payment.ts, payout.ts, webhooks/).
import type { Event } from '../../generated/prisma/client.js';
import type { AnyTx, Pool } from '../db.js';
import { prismaOf, typedRows } from '../db.js';
import { eventAtSequence } from './sql/eventAtSequence.js';
import { after, NEWEST_FIRST, type PageCursor } from './paging.js';
import { eventsToRecover } from './sql/eventsToRecover.js';

export type { Event };

export interface EventScope {
  merchantId: string;
  environment: string;
}

/** Where a page starts: one of the scope's events, or null when the cursor names none. */
export function eventCursor(pool: Pool, id: string, scope: EventScope): Promise<PageCursor | null> {
  return prismaOf(pool).event.findFirst({ where: { id, merchantId: scope.merchantId, environment: scope.environment }, select: { createdAt: true, id: true } });
}

export function eventsPage(pool: Pool, scope: EventScope & { type?: string; objectId?: string }, cursor: PageCursor | null, limit: number): Promise<Event[]> {
  return prismaOf(pool).event.findMany({
    where: { merchantId: scope.merchantId, environment: scope.environment, type: scope.type, objectId: scope.objectId, ...after(cursor) },
    orderBy: NEWEST_FIRST,
    take: limit,
  });
}

/** Any merchant's event, for operators; anything that is not an event id is none. */
export function findEventById(pool: Pool, id: string): Promise<Event | null> {
  if (!/^evt_[0-9A-Za-z]{24}$/.test(id)) return Promise.resolve(null);
  return prismaOf(pool).event.findUnique({ where: { id } });
}

/** One of the scope's events; anything that is not an event id is none. */
export function findOwnedEvent(pool: Pool, scope: EventScope, id: string): Promise<Event | null> {
  if (!/^evt_[0-9A-Za-z]{24}$/.test(id)) return Promise.resolve(null);
  return prismaOf(pool).event.findFirst({ where: { id, merchantId: scope.merchantId, environment: scope.environment } });
}

/** prisma/sql/eventsToRecover.sql: what recovering an endpoint resends from a window, oldest first. */
export function undeliveredEvents(pool: Pool, scope: EventScope, endpoint: { id: string; enabledEvents: string[] }, window: { since: Date; until: Date }, limit: number) {
  return prismaOf(pool).$queryRawTyped(eventsToRecover(scope.merchantId, scope.environment, window.since, window.until, endpoint.enabledEvents, endpoint.id, limit));
}

/** An object's event at a sequence number, as delivery planning needs it, on either kind of transaction. */
export async function eventAt(c: AnyTx | Pool, objectId: string, sequence: number) {
  return (await typedRows(c, eventAtSequence(objectId, sequence), 'event_at_sequence'))[0];
}
