// Names and payload shapes shared by workflows, the API (Temporal client) and workers.
// Payloads carry amounts as decimal strings of minor units: no bigint crosses Temporal.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { ExceptionCode, PaymentStatus, ResolutionDecision } from './rules/transitions.js';
import type { ChainTransferView } from './rules/matching.js';
import type { PlannedDelivery } from './webhook-shared.js';
import type { RecognitionGate } from './rules/recognition-gates.js';
import type { CreateRefusal, PayoutWorkflowInput } from './payout-shared.js';

export const TASK_QUEUES = {
  payments: 'stablerail-payments',
  /** Webhook delivery workflows and their HTTP attempts, on their own workers. */
  webhooks: 'stablerail-webhooks',
  /** The watcher workflows and their chain activities: one queue, one workflow per rail. */
  chain: 'stablerail-chain',
} as const;

export interface PaymentWorkflowInput {
  paymentId: string;
  merchantId: string;
  environment: 'sandbox' | 'live';
  rail: string;
  amountMinor: string;
  /**
   * Set only on payments whose row the API wrote before starting the workflow (before
   * Update-with-Start); those histories replay down the old path. New payments learn it from
   * the create Update.
   */
  expiresAtMs?: number;
  /** How long an expired or canceled payment keeps listening for late money before its workflow ends. */
  monitorAfterCloseS: number;
  /**
   * Recorded on payments started before every namespace registered Stablerail's search
   * attributes (false skipped the upserts); new payments leave it out and always upsert.
   */
  upsertSearchAttributes?: boolean;
  /** The rail's underpay_tolerance_minor at creation (absent on payments started before chain matching: 0). */
  underpayToleranceMinor?: string;
  /** What must hold before pending moves to available (the rail's recognition_gates). */
  recognitionGates?: RecognitionGate[];
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
  /** The last chain update applied (its version), and what it showed for the deposit address. */
  chainVersion?: number;
  transfers?: ChainTransferView[];
  /** Transfers the payment was confirmed (or accepted) on. */
  countedKeys?: string[];
  /** Every transfer reached the chain's finality: the input the recognition gate waits for. */
  finalReached?: boolean;
  /** Transfer inclusions posted to the merchant's pending balance, and those moved on to available. */
  postedPending?: PostedTransfer[];
  postedAvailable?: PostedTransfer[];
  /** A reconciliation run matched this payment across the three planes. */
  reconciled?: boolean;
  /** When the payment reached a final status: the late-money window runs from here, across continue-as-new. */
  closedAtMs?: number;
  /** The transfers a refund or write-off decided on: money after them is late (rules/matching.ts, lateTransfers). */
  resolvedKeys?: string[];
  /** Late transfers to this closed payment already recorded as chain exceptions. */
  lateKeys?: string[];
  /** The refund payout a `refund` decision started (a child workflow), and whether its row and hold exist. */
  refund?: {
    id: string;
    status: 'creating' | 'created' | 'refused';
    refusal: CreateRefusal | null;
    /** How the refund payout ended, as it told this workflow; absent while it runs. */
    ended?: { status: string; holdReleased: boolean };
  };
}

/** A transfer inclusion the ledger holds a posting for (what a reversal must name). */
/** Money that reached a closed payment: recorded as an `unmatched_transfer` chain exception (reason `payment_closed`). */
export interface LateTransfersRecord {
  paymentId: string;
  rail: string;
  status: string;
  transfers: Array<{ key: string; amountMinor: string }>;
}

export interface PostedTransfer {
  key: string;
  txHash: string;
  logIndex: number;
  blockHash: string;
  amountMinor: string;
}

/**
 * What the watcher tells a payment workflow: the whole current view of its deposit address,
 * not a delta, so a repeated or reordered signal cannot double count. `version` grows with
 * each change; an older version is ignored.
 */
export interface PaymentChainUpdate {
  rail: string;
  version: number;
  processedHeight: number;
  transfers: ChainTransferView[];
}

export interface WatcherWorkflowInput {
  railId: string;
  /** Last processed height carried across continue-as-new (null: the watcher's first run). */
  cursor: number | null;
}

export interface WatcherStatus {
  railId: string;
  cursor: number | null;
  headHeight: number | null;
  batches: number;
  lastError: string | null;
}

export const watcherWorkflowId = (railId: string): string => `watcher-${railId}`;

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
  /** The event's webhook deliveries, planned in the same transaction (absent from activities recorded before that). */
  planned?: PlannedDelivery[];
  /** false when the row already existed: an activity retry or a replay. */
  inserted: boolean;
}

/**
 * What the create Update of `POST /v1/payments` carries: the rest of the row. The workflow's
 * handler writes the row, its deposit address, transition 1, its event and its evidence entry
 * in one transaction and answers the merchant-facing payment object.
 */
export interface PaymentCreateRequest {
  reference: string;
  metadata: Record<string, string>;
  expiresInS: number;
  /** Who asked (`api_key:{id}`), recorded on transition 1 and its evidence entry. */
  actor: string;
}

/** The input of the create activity: the workflow's identity plus the request. */
export interface PaymentRecordInput extends PaymentCreateRequest {
  paymentId: string;
  merchantId: string;
  environment: 'sandbox' | 'live';
  rail: string;
  amountMinor: string;
}

/** The merchant-facing payment object as JSON (activities/payment.ts `paymentObject`). */
export interface PaymentView {
  id: string;
  object: 'payment';
  status: PaymentStatus;
  amount: string;
  expires_at: string;
  [field: string]: unknown;
}

/** The create activity's answer: the view for the merchant and the window for the workflow. */
export interface PaymentCreated {
  view: PaymentView;
  expiresAtMs: number;
  /** payment.created's webhook deliveries, planned with the row. */
  planned: PlannedDelivery[];
}

/** The Update id of a payment's creation: one per payment, so a retried request attaches to it. */
export const createUpdateId = (paymentId: string): string => `create-${paymentId}`;

export interface CancelRequest {
  actor: string;
}

export interface ResolveRequest {
  decision: ResolutionDecision;
  reason: string;
  operator: string;
  /** With `refund`: the refund payout's workflow (its create step writes the row and the hold). */
  refund?: { input: PayoutWorkflowInput; taskQueue: string };
}

export const paymentChainSignal = defineSignal<[PaymentChainUpdate]>('chainUpdate');
export const watcherStatusQuery = defineQuery<WatcherStatus>('watcherStatus');
export const paymentStateQuery = defineQuery<PaymentWorkflowState>('paymentState');
export const createPaymentUpdate = defineUpdate<PaymentView, [PaymentCreateRequest]>('createPayment');
export const cancelPaymentUpdate = defineUpdate<PaymentWorkflowState, [CancelRequest]>('cancelPayment');
export const resolvePaymentUpdate = defineUpdate<PaymentWorkflowState, [ResolveRequest]>('resolvePayment');
/** The payer's refund address from the public page (first one wins); answered with the address kept. */
export const setRefundAddressUpdate = defineUpdate<RefundAddressRecorded, [RefundAddressRequest]>('setRefundAddress');

export interface RefundAddressRequest {
  /** Already validated and normalized for the payment's rail by the API. */
  address: string;
}
export interface RefundAddressRecorded {
  /** The address the payment keeps: this request's, or the one left first. */
  address: string;
  /** False when an earlier request had already left one. */
  set: boolean;
}

export const SEARCH_ATTRIBUTES = {
  merchantId: 'StablerailMerchantId',
  environment: 'StablerailEnvironment',
  rail: 'StablerailRail',
  status: 'StablerailStatus',
} as const;

/** The same attributes as typed keys: starts and upserts name a key, never a loose string. */
export const SEARCH_ATTRIBUTE_KEYS = {
  merchantId: defineSearchAttributeKey(SEARCH_ATTRIBUTES.merchantId, SearchAttributeType.KEYWORD),
  environment: defineSearchAttributeKey(SEARCH_ATTRIBUTES.environment, SearchAttributeType.KEYWORD),
  rail: defineSearchAttributeKey(SEARCH_ATTRIBUTES.rail, SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey(SEARCH_ATTRIBUTES.status, SearchAttributeType.KEYWORD),
} as const;

/** The search attributes a payment or payout workflow starts with. */
export function startSearchAttributes(a: { merchantId: string; environment: string; rail: string; status: string }): SearchAttributePair[] {
  return [
    { key: SEARCH_ATTRIBUTE_KEYS.merchantId, value: a.merchantId },
    { key: SEARCH_ATTRIBUTE_KEYS.environment, value: a.environment },
    { key: SEARCH_ATTRIBUTE_KEYS.rail, value: a.rail },
    { key: SEARCH_ATTRIBUTE_KEYS.status, value: a.status },
  ];
}

/** Answered once the run's row exists: POST /v1/reconciliation/runs starts the run with it (Update-with-Start). */
export const reconciliationStartedUpdate = defineUpdate<{ runId: string }, []>('runStarted');

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
  'payout_without_transfer',
  'transfer_without_payout',
] as const;

/** Reconciliation found nothing wrong with this payment: the last recognition gate may pass. (Runs recorded before the Update.) */
export const paymentReconciledSignal = defineSignal<[{ runId: string }]>('reconciled');
/** The same news as an Update: the run marks the payment reconciled only once the workflow accepted it. */
export const paymentReconciledUpdate = defineUpdate<{ status: PaymentStatus }, [{ runId: string }]>('acknowledgeReconciled');
