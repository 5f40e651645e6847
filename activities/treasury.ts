// Treasury recognition gates, run by the payment workflow as activities. Detection posts
// nothing; confirmation posts each counted transfer from rail custody to the merchant's
// pending balance; recognition moves it from pending to available. A reorg reverses what a
// removed transfer had posted. Posting ids derive from payment, rail, tx hash, log index and
// gate, so a retry or a replay never posts twice.
import type { Pool } from './db.js';
import { withTx } from './db.js';
import { railById, type StablerailConfig } from './config.js';
import { platformFeePosting } from './resolutions.js';
import { postEntries, reversalOf, type AccountRef, type Posting } from './ledger.js';
import { findPayment, type PaymentRow } from './repositories/payments.js';
import { unreversedEntries } from './repositories/ledger.js';

export interface CountedTransfer {
  txHash: string;
  logIndex: number;
  /** The block that includes it: a transaction reorged out and mined again is a new inclusion. */
  blockHash: string;
  amountMinor: string;
}

// The block hash is part of the cause because a reorged transaction is usually mined again
// with the same hash: its new inclusion must post afresh after the old one was reversed.
export const transferCause = (p: PaymentRow, t: { txHash: string; logIndex: number; blockHash: string }, gate: string): string =>
  `payment:${p.id}/rail:${p.rail}/tx:${t.txHash.toLowerCase()}/log:${t.logIndex}/block:${t.blockHash.toLowerCase()}/gate:${gate}`;

function accounts(p: PaymentRow) {
  const base = { environment: p.environment, asset: p.asset };
  return {
    custody: { ...base, ownerType: 'rail', ownerId: p.rail, purpose: 'custody' } as AccountRef,
    pending: { ...base, ownerType: 'merchant', ownerId: p.merchant_id, purpose: 'pending' } as AccountRef,
    available: { ...base, ownerType: 'merchant', ownerId: p.merchant_id, purpose: 'available' } as AccountRef,
  };
}

function gatePosting(p: PaymentRow, t: CountedTransfer, gate: 'confirmed' | 'recognized'): Posting {
  const a = accounts(p);
  const amount = BigInt(t.amountMinor);
  const [debit, credit] = gate === 'confirmed' ? [a.custody, a.pending] : [a.pending, a.available];
  return {
    cause: transferCause(p, t, gate),
    environment: p.environment,
    gate,
    merchantId: p.merchant_id,
    paymentId: p.id,
    rail: p.rail,
    txHash: t.txHash,
    logIndex: t.logIndex,
    memo: gate === 'confirmed' ? 'confirmed transfer held as pending' : 'recognized: pending to available',
    lines: [
      { account: debit, amountMinor: amount },
      { account: credit, amountMinor: -amount },
    ],
  };
}

export function createTreasuryActivities(deps: { pool: Pool; config: StablerailConfig }) {
  const { pool } = deps;
  async function payment(id: string): Promise<PaymentRow> {
    const p = await findPayment(pool, id);
    if (!p) throw new Error(`no payment ${id}`);
    return p;
  }
  return {
    /** Gate 1: confirmed transfers to the merchant's pending balance. Returns the entry ids posted now. */
    async postConfirmedToPending(input: { paymentId: string; transfers: CountedTransfer[] }): Promise<string[]> {
      const p = await payment(input.paymentId);
      const r = await withTx(pool, (c) => postEntries(c, input.transfers.map((t) => gatePosting(p, t, 'confirmed'))));
      return r.inserted;
    },

    /** Gate 2: recognized transfers from pending to available. */
    async postRecognizedToAvailable(input: { paymentId: string; transfers: CountedTransfer[] }): Promise<string[]> {
      const p = await payment(input.paymentId);
      const rail = railById(deps.config, p.rail);
      // The platform fee is recognized with the money it is charged on, in the same transaction.
      const fees = rail
        ? input.transfers.flatMap((t) => platformFeePosting(deps.config, rail, p, { cause: transferCause(p, t, 'platform_fee'), txHash: t.txHash, logIndex: t.logIndex, amountMinor: BigInt(t.amountMinor) }) ?? [])
        : [];
      const r = await withTx(pool, (c) => postEntries(c, [...input.transfers.map((t) => gatePosting(p, t, 'recognized')), ...fees]));
      return r.inserted;
    },

    /** A reorg removed a transfer: reverse everything it had posted, newest gate first. */
    async reverseTransferPostings(input: { paymentId: string; txHash: string; logIndex: number; blockHash: string; reorgId: string }): Promise<string[]> {
      const p = await payment(input.paymentId);
      return withTx(pool, async (c) => {
        const out: string[] = [];
        for (const gate of ['platform_fee', 'recognized', 'confirmed'] as const) {
          for (const entryId of await unreversedEntries(c, transferCause(p, input, gate))) {
            const rev = await reversalOf(c, entryId, `${transferCause(p, input, gate)}/reversal:${input.reorgId}`, `reversal_${gate}`);
            if (rev) out.push(...(await postEntries(c, [rev])).inserted);
          }
        }
        return out;
      });
    },
  };
}

export type TreasuryActivities = ReturnType<typeof createTreasuryActivities>;
