// Names and payload shapes shared by workflows, the API (Temporal client) and workers.
// Payloads carry amounts as decimal strings of minor units: no bigint crosses Temporal.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ExceptionCode, PaymentStatus, ResolutionDecision } from './rules/transitions.js';

export const TASK_QUEUES = {
  payments: 'stablerail-payments',
  /** Webhook delivery workflows and their HTTP attempts, on their own workers. */
  webhooks: 'stablerail-webhooks',
} as const;

export const NAMESPACE_DEFAULT = 'default';

export interface PaymentWorkflowInput {
  paymentId: string;
  merchantId: string;
  environment: 'sandbox' | 'live';
  rail: string;
  amountMinor: string;
  expiresAtMs: number;
  /** How long an expired or canceled payment keeps listening for late money before its workflow ends. */
  monitorAfterCloseS: number;
  /** Whether the namespace has Stablerail's search attributes registered (the time-skipping test server has none). */
  upsertSearchAttributes: boolean;
  /** Carried across continue-as-new. */
  carried?: PaymentWorkflowState;
}

export interface PaymentWorkflowState {
  paymentId: string;
  status: PaymentStatus;
  exceptionCode: ExceptionCode | null;
  /** Sequence of the last recorded transition (1 = created). */
  seq: number;
  amountMinor: string;
  amountReceivedMinor: string;
  expiresAtMs: number;
}

export interface TransitionRecord {
  paymentId: string;
  seq: number;
  from: PaymentStatus | null;
  to: PaymentStatus;
  cause: string;
  actor: string;
  exceptionCode: ExceptionCode | null;
  amountReceivedMinor: string;
  reason?: string;
}

export interface RecordedTransition {
  eventId: string;
  eventType: string;
  /** false when the row already existed: an activity retry or a replay. */
  inserted: boolean;
}

export interface CancelRequest {
  actor: string;
}

export interface ResolveRequest {
  decision: ResolutionDecision;
  reason: string;
  operator: string;
}

export const paymentStateQuery = defineQuery<PaymentWorkflowState>('paymentState');
export const cancelPaymentUpdate = defineUpdate<PaymentWorkflowState, [CancelRequest]>('cancelPayment');
export const resolvePaymentUpdate = defineUpdate<PaymentWorkflowState, [ResolveRequest]>('resolvePayment');

export const SEARCH_ATTRIBUTES = {
  merchantId: 'StablerailMerchantId',
  environment: 'StablerailEnvironment',
  rail: 'StablerailRail',
  status: 'StablerailStatus',
} as const;

export interface ReconciliationInput {
  runId?: string;
  environment: 'sandbox' | 'live';
  merchantId?: string | null;
  trigger?: string;
  requestedBy?: string;
  /** Seconds of grace for work in flight (a confirmation whose posting is being written). */
  graceS?: number;
}

export interface ReconciliationResult {
  runId: string;
  openBreaks: number;
  matchedPayments: number;
}

/** The classes a run checks, in order (activities/reconciliation.ts has their SQL). */
export const BREAK_CLASSES_IN_ORDER = [
  'order_without_payment',
  'payment_without_order',
  'amount_mismatch',
  'transfer_without_payment',
  'confirmed_without_posting',
  'recognized_without_posting',
  'posting_without_transfer',
  'reorged_with_posting',
] as const;

/** Reconciliation found nothing wrong with this payment: the last recognition gate may pass. */
export const paymentReconciledSignal = defineSignal<[{ runId: string }]>('reconciled');
