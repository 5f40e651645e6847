// Everything recorded about one payment, as its console timeline and its evidence pack read it:
// transitions, events, ledger lines, chain transfers and webhook attempts, each a TypedSQL file
// (prisma/sql/payment*.sql) so both readers share one query and its typed rows.
import type { Pool } from '../db.js';
import { prismaOf } from '../db.js';
import { paymentEvents } from './sql/paymentEvents.js';
import { paymentPostings } from './sql/paymentPostings.js';
import { paymentTransfers } from './sql/paymentTransfers.js';
import { paymentTransitions } from './sql/paymentTransitions.js';
import { paymentWebhookAttempts } from './sql/paymentWebhookAttempts.js';

export interface PaymentHistory {
  transitions: paymentTransitions.Result[];
  events: paymentEvents.Result[];
  postings: paymentPostings.Result[];
  transfers: paymentTransfers.Result[];
  webhookAttempts: paymentWebhookAttempts.Result[];
}

/** Five reads in parallel, each bounded by `rowsMax`. */
export async function paymentHistory(pool: Pool, paymentId: string, rowsMax: number): Promise<PaymentHistory> {
  const prisma = prismaOf(pool);
  const [transitions, events, postings, transfers, webhookAttempts] = await Promise.all([
    prisma.$queryRawTyped(paymentTransitions(paymentId, rowsMax)),
    prisma.$queryRawTyped(paymentEvents(paymentId, rowsMax)),
    prisma.$queryRawTyped(paymentPostings(paymentId, rowsMax)),
    prisma.$queryRawTyped(paymentTransfers(paymentId, rowsMax)),
    prisma.$queryRawTyped(paymentWebhookAttempts(paymentId, rowsMax)),
  ]);
  return { transitions, events, postings, transfers, webhookAttempts };
}
