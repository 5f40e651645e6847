// Matching a payment against what the chain shows for its deposit address: one pure decision
// function the payment workflow applies after every chain update and timer. It only proposes a
// move; the transition table (rules/transitions.ts) still decides whether the move is legal.
import { minorFromString, minorToString } from './money.js';
import type { ExceptionCode, PaymentStatus } from './transitions.js';

/** How settled one transfer is, as the watcher last saw it on its hash-linked chain. */
export type TransferDepth = 'pending' | 'confirmed' | 'final';

/** One transfer to the payment's address as carried in a signal (amount: minor units, base 10). */
export interface ChainTransferView {
  /** `${txHash}:${logIndex}`: the transfer's identity on its rail. */
  key: string;
  amountMinor: string;
  blockHeight: number;
  /** The including block: the ledger posts per inclusion, so a re-mined transfer posts afresh. */
  blockHash: string;
  depth: TransferDepth;
}

export interface MatchInput {
  status: PaymentStatus;
  amountMinor: bigint;
  underpayToleranceMinor: bigint;
  expiresAtMs: number;
  nowMs: number;
  /** Every transfer the chain currently shows for the address (reorged ones are gone). */
  transfers: readonly ChainTransferView[];
  /** The transfers the payment was confirmed on (empty before confirmation). */
  countedKeys: readonly string[];
}

export interface MatchDecision {
  to: PaymentStatus;
  cause: string;
  exceptionCode: ExceptionCode | null;
  amountReceivedMinor: string;
  /** Set when the move counts the current transfers as the payment's money. */
  countedKeys?: string[];
}

const isConfirmed = (t: ChainTransferView) => t.depth === 'confirmed' || t.depth === 'final';

export function sumMinor(transfers: readonly ChainTransferView[]): bigint {
  let s = 0n;
  for (const t of transfers) s += minorFromString(t.amountMinor);
  return s;
}

/**
 * The next move for a payment given the chain's view, or null to wait. Rules (README, "Chain
 * rails and the watcher"): a transfer makes a waiting payment `detected`; when every transfer is
 * confirmed and together they cover the amount less the tolerance, the payment is `confirmed`
 * (more than the amount: `overpaid`); still short when the window has closed: `underpaid`; money
 * to an expired or canceled payment: `paid_late`; a transfer after confirmation:
 * `multiple_transfers`; a counted transfer gone: back to waiting before confirmation, `reorged`
 * after it.
 */
export function decide(m: MatchInput): MatchDecision | null {
  const received = sumMinor(m.transfers);
  const receivedS = minorToString(received);
  const windowClosed = m.nowMs >= m.expiresAtMs;
  const keys = m.transfers.map((t) => t.key);
  const review = (code: ExceptionCode, cause: string): MatchDecision => ({ to: 'requires_review', cause, exceptionCode: code, amountReceivedMinor: receivedS });

  switch (m.status) {
    case 'awaiting_payment':
      if (m.transfers.length === 0) {
        return windowClosed ? { to: 'expired', cause: 'timer_expired', exceptionCode: null, amountReceivedMinor: '0' } : null;
      }
      // Money first seen after the window closed is late even if the timer has not fired yet.
      if (windowClosed) return review('paid_late', 'chain_paid_late');
      return { to: 'detected', cause: 'chain_detected', exceptionCode: null, amountReceivedMinor: receivedS };

    case 'detected': {
      if (m.transfers.length === 0) return { to: 'awaiting_payment', cause: 'chain_reorged', exceptionCode: null, amountReceivedMinor: '0' };
      if (!m.transfers.every(isConfirmed)) return null;
      if (received > m.amountMinor) return { ...review('overpaid', 'chain_overpaid'), countedKeys: keys };
      if (received >= m.amountMinor - m.underpayToleranceMinor) {
        return { to: 'confirmed', cause: 'chain_confirmed', exceptionCode: null, amountReceivedMinor: receivedS, countedKeys: keys };
      }
      // Short but the window is still open: the payer may still top up.
      return windowClosed ? { ...review('underpaid', 'chain_underpaid'), countedKeys: keys } : null;
    }

    case 'confirmed':
    case 'recognized': {
      const now = new Set(keys);
      if (m.countedKeys.some((k) => !now.has(k))) return review('reorged', 'chain_reorged');
      if (m.status === 'confirmed') {
        const counted = new Set(m.countedKeys);
        if (keys.some((k) => !counted.has(k))) return review('multiple_transfers', 'chain_multiple_transfers');
      }
      return null;
    }

    case 'expired':
    case 'canceled':
      return m.transfers.length > 0 ? review('paid_late', 'chain_paid_late') : null;

    case 'requires_review':
    case 'refunded':
    case 'written_off':
      // Waiting for an operator, or closed by one: chain changes are kept in state and evidence only.
      return null;
  }
}

/**
 * Money that reached a payment after it closed with its money settled (`recognized`, or
 * `refunded` / `written_off` by an operator): confirmed transfers outside what the payment
 * counted or the decision covered, not yet recorded. The payment stays as it is (its money was
 * recognized, refunded or written off); each such transfer becomes an `unmatched_transfer`
 * exception, as it would after the workflow ended. Expired and canceled payments are not here:
 * money to them is `paid_late` (decide).
 */
export function lateTransfers(m: {
  status: PaymentStatus;
  transfers: readonly ChainTransferView[];
  countedKeys: readonly string[];
  /** The transfers a refund or write-off covered; undefined for decisions made before they were kept. */
  resolvedKeys: readonly string[] | undefined;
  recordedKeys: readonly string[];
}): ChainTransferView[] {
  let covered: readonly string[];
  if (m.status === 'recognized') covered = m.countedKeys;
  else if ((m.status === 'refunded' || m.status === 'written_off') && m.resolvedKeys) covered = m.resolvedKeys;
  else return [];
  const known = new Set([...covered, ...m.recordedKeys]);
  return m.transfers.filter((t) => isConfirmed(t) && !known.has(t.key));
}

/** Whether every transfer has reached the chain's own finality (the recognition gate's input). */
export function allFinal(transfers: readonly ChainTransferView[]): boolean {
  return transfers.length > 0 && transfers.every((t) => t.depth === 'final');
}
