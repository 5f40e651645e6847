// The payout lifecycle in one table (DESIGN.md, Payouts). The payout workflow, the recording
// activity and the tests read it. Money moves only after `approved`; once `signing` has begun
// a payout cannot be canceled any more, because a signed transaction may already be on its way.

export const PAYOUT_STATUSES = ['pending_approval', 'approved', 'signing', 'broadcast', 'confirmed', 'settled', 'failed', 'canceled', 'requires_review'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

export const PAYOUT_TRANSITIONS: Readonly<Record<PayoutStatus, readonly PayoutStatus[]>> = {
  pending_approval: ['approved', 'canceled'],
  approved: ['signing', 'canceled'],
  // The signer refused, or the node rejected the transaction for good: nothing left the wallet.
  signing: ['broadcast', 'failed'],
  // Mined and reverted (or no Transfer log): failed; the network fee was still paid.
  // Stuck and nothing can be sent in its place (signer down, balance short): requires_review.
  broadcast: ['confirmed', 'failed', 'requires_review'],
  // At confirmations_required; settled at the rail's finality. A reorg that removes the
  // transaction before finality reopens the payout (back to broadcast, postings reversed).
  confirmed: ['settled', 'broadcast'],
  settled: [],
  failed: [],
  canceled: [],
  // Holding its funds: the chain is still watched, so a transaction mined late still counts,
  // and a replacement that can be sent again puts it back in broadcast.
  requires_review: ['broadcast', 'confirmed', 'failed'],
};

export const PAYOUT_FINAL_STATUSES: ReadonlySet<PayoutStatus> = new Set(['settled', 'failed', 'canceled']);
/** Statuses in which the merchant or an operator may still cancel. */
export const PAYOUT_CANCELABLE: ReadonlySet<PayoutStatus> = new Set(['pending_approval', 'approved']);

export const PAYOUT_DESTINATION_STATUSES = ['pending_approval', 'cooling_off', 'active', 'rejected', 'revoked'] as const;
export type PayoutDestinationStatus = (typeof PAYOUT_DESTINATION_STATUSES)[number];

export class IllegalPayoutTransitionError extends Error {
  override name = 'IllegalPayoutTransitionError';
}

export function canPayoutTransition(from: PayoutStatus | null, to: PayoutStatus): boolean {
  if (from === null) return to === 'pending_approval';
  return PAYOUT_TRANSITIONS[from].includes(to);
}

export function assertPayoutTransition(from: PayoutStatus | null, to: PayoutStatus): void {
  if (!canPayoutTransition(from, to)) throw new IllegalPayoutTransitionError(`payout cannot move from ${from ?? '(new)'} to ${to}`);
}

export const payoutEventType = (to: PayoutStatus): string => (to === 'pending_approval' ? 'payout.created' : `payout.${to}`);

/**
 * How many different operators must approve: one at or below the merchant's threshold, two
 * above it. Amounts are minor units of the payout's asset.
 */
export function approvalsRequired(amountMinor: bigint, dualApprovalAboveMinor: bigint): 1 | 2 {
  return amountMinor > dualApprovalAboveMinor ? 2 : 1;
}
