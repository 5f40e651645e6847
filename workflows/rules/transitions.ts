// The payment lifecycle in one table. Workflows, activities, the database guard
// and the tests all read this table; a second copy of it would be a bug waiting.

export const PAYMENT_STATUSES = [
  'awaiting_payment',
  'detected',
  'confirmed',
  'recognized',
  'expired',
  'canceled',
  'requires_review',
  'refunded',
  'written_off',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const EXCEPTION_CODES = [
  'underpaid',
  'overpaid',
  'paid_late',
  'multiple_transfers',
  'reorged',
  'unmatched_transfer',
  // A refund was decided, then canceled or failed with its hold released: decide again.
  'refund_failed',
] as const;
export type ExceptionCode = (typeof EXCEPTION_CODES)[number];

export const RESOLUTION_DECISIONS = ['accept', 'refund', 'write_off'] as const;
export type ResolutionDecision = (typeof RESOLUTION_DECISIONS)[number];

/** Allowed moves: from → set of to. Anything not listed is illegal. */
export const TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  awaiting_payment: ['detected', 'expired', 'canceled', 'requires_review'],
  // A reorg that removes the only counted transfer sends a detected payment back to waiting.
  detected: ['confirmed', 'awaiting_payment', 'requires_review'],
  confirmed: ['recognized', 'requires_review'],
  // Money arriving after the window turns an expired payment into an exception, never into a silent success.
  expired: ['requires_review'],
  // accept resumes the treasury gates; refund and write_off end the payment.
  requires_review: ['confirmed', 'refunded', 'written_off'],
  recognized: ['requires_review'], // only a deep reorg can reopen a recognized payment
  canceled: ['requires_review'], // money sent to a canceled payment's address is an exception
  // A refund canceled or failed (its hold released) sends the payment back for another decision.
  refunded: ['requires_review'],
  written_off: [],
};

/** Statuses after which nothing is expected unless money or a reorg arrives. */
export const FINAL_STATUSES: ReadonlySet<PaymentStatus> = new Set([
  'recognized',
  'expired',
  'canceled',
  'refunded',
  'written_off',
]);

export const EVENT_TYPE_BY_STATUS: Readonly<Record<PaymentStatus, string>> = {
  awaiting_payment: 'payment.awaiting_payment',
  detected: 'payment.detected',
  confirmed: 'payment.confirmed',
  recognized: 'payment.recognized',
  expired: 'payment.expired',
  canceled: 'payment.canceled',
  requires_review: 'payment.requires_review',
  refunded: 'payment.resolved',
  written_off: 'payment.resolved',
};

export function canTransition(from: PaymentStatus | null, to: PaymentStatus): boolean {
  if (from === null) return to === 'awaiting_payment';
  return TRANSITIONS[from].includes(to);
}

/** The event type a transition emits; leaving requires_review is always a resolution. */
export function eventTypeFor(from: PaymentStatus | null, to: PaymentStatus): string {
  if (from === null) return 'payment.created';
  if (from === 'requires_review') return 'payment.resolved';
  if (from === 'detected' && to === 'awaiting_payment') return 'payment.reorged';
  return EVENT_TYPE_BY_STATUS[to];
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: PaymentStatus | null,
    readonly to: PaymentStatus,
  ) {
    super(`illegal payment transition ${from ?? '(none)'} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function assertTransition(from: PaymentStatus | null, to: PaymentStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

export function isPaymentStatus(s: unknown): s is PaymentStatus {
  return typeof s === 'string' && (PAYMENT_STATUSES as readonly string[]).includes(s);
}
