// Names and payload shapes of the payout, destination and sweep workflows, shared by the
// workflows, their activities, the API and the workers. Amounts are decimal strings of minor units.
import { ApplicationFailure, defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { KeyRef } from '../activities/signer/signer.js';
import type { PayoutDestinationStatus, PayoutStatus } from './rules/payout-transitions.js';

/** The merchant-facing payout object: what the create Update answers (activities/payout.ts serializes it). */
export interface PayoutView {
  id: string;
  object: 'payout';
  livemode: boolean;
  kind: 'payout' | 'refund';
  status: PayoutStatus;
  amount: string;
  asset: string;
  rail: string;
  destination: { id: string | null; address: string };
  reference: string;
  payment_id: string | null;
  approvals_required: number;
  approvals: Array<{ operator: string; created_at: string }>;
  tx_hash: string | null;
  network_fee: { amount: string; asset: string } | null;
  failure_code: string | null;
  created_at: string;
  updated_at: string;
}

/** The merchant-facing allowlist entry (activities/payout-destination.ts serializes it). */
export interface DestinationView {
  id: string;
  object: 'payout_destination';
  livemode: boolean;
  rail: string;
  address: string;
  label: string;
  status: PayoutDestinationStatus;
  usable_at: string | null;
  created_at: string;
  updated_at: string;
}

export const PAYOUT_TASK_QUEUE = 'stablerail-payouts';

export interface PayoutWorkflowInput {
  payoutId: string;
  merchantId: string;
  environment: 'sandbox' | 'live';
  rail: string;
  railKind: 'evm' | 'tron';
  kind: 'payout' | 'refund';
  /** Given at start only to payouts whose row the API wrote (before creation moved into the workflow). */
  amountMinor?: string;
  destinationAddress?: string;
  approvalsRequired?: number;
  /** What this workflow's create step writes (the row, transition 1 and the hold); absent on older payouts. */
  create?: PayoutCreateRequest;
  /** A payout nobody approves within this window is canceled. */
  approvalWindowS: number;
  confirmationsRequired: number;
  /** Recorded on payouts started before search attributes were registered everywhere (false skipped upserts); new ones leave it out. */
  upsertSearchAttributes?: boolean;
  /**
   * A run continued-as-new while following its send on chain (broadcast or requires_review for
   * days): what the earlier runs knew. The new run goes straight back to watching.
   */
  carried?: PayoutCarried;
  /** History length at which a run following its send continues-as-new; PAYOUT_HISTORY_EVENTS_MAX when absent (tests pass a small one). */
  historyEventsMax?: number;
}

/** Everything a payout's next run needs to go on watching its send where the last run stopped. */
export interface PayoutCarried {
  state: PayoutWorkflowState;
  amountMinor: string;
  destinationAddress: string;
  approvalsRequired: number;
  /** How many reorgs reopened the payout: the round keys its confirmation postings. */
  round: number;
}

/**
 * A payout the API validated (rail, amount, active destination), or a refund of an exception
 * payment (its amount and the accounts it is held from are read from the ledger).
 */
export type PayoutCreateRequest =
  | { kind: 'payout'; amountMinor: string; destination: { id: string | null; address: string }; reference: string; actor: string }
  | { kind: 'refund'; paymentId: string; address: string; actor: string };

/** What a refused create step tells the caller: the API answers it as a typed 4xx. */
export interface CreateRefusal {
  code: string;
  message: string;
  param: string | null;
  status: number;
}

/** A create step's refusal as it reached a workflow: an activity failure carrying it. */
export function refusalOf(err: unknown, fallbackCode: string): CreateRefusal {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof ApplicationFailure) {
    const d = cause.details?.[0] as Partial<CreateRefusal> | undefined;
    return { code: cause.type ?? fallbackCode, message: cause.message, param: d?.param ?? null, status: d?.status ?? 400 };
  }
  return { code: fallbackCode, message: String(err), param: null, status: 400 };
}

export interface PayoutWorkflowState {
  payoutId: string;
  status: PayoutStatus;
  seq: number;
  approvals: string[];
  txHash: string | null;
  nonce: number | null;
  failureCode: string | null;
  /** The create step refused the payout: nothing was written and the workflow ended. */
  refused?: CreateRefusal | null;
  /** The hold went back (canceled, or provably nothing sent): the money is where it was before the payout. */
  holdReleased?: boolean;
}

export interface PayoutTransitionRecord {
  payoutId: string;
  seq: number;
  from: PayoutStatus | null;
  to: PayoutStatus;
  cause: string;
  actor: string;
  reason?: string | null;
  failureCode?: string | null;
  /** The chain send whose hash and nonce the payout view shows. */
  sendKey: string;
}

export interface ApprovePayoutRequest {
  /** The approving operator's id (`op_…`): approvals count distinct ids. */
  operator: string;
  /** The credential they used (absent on approvals recorded before operator accounts). */
  credentialId?: string;
  reason: string;
}

/** The operator id behind a recorded actor (`op_…@otk_…`), or null for a merchant key or the system. */
export const operatorIdOfActor = (actor: string | undefined): string | null => (actor && /^op_[0-9A-Za-z]{24}(@|$)/.test(actor) ? actor.split('@')[0]! : null);
export interface CancelPayoutRequest {
  actor: string;
  reason?: string;
}

/** Update-with-Start's Update: answers the payout view once the row and its hold are written. */
export const createPayoutUpdate = defineUpdate<PayoutView, []>('createPayout');
/** A refund payout tells the payment workflow that started it whether its row and hold are written. */
export const refundCreatedSignal = defineSignal<[{ refundId: string; refused: CreateRefusal | null }]>('refundCreated');
/** A refund that ends tells its payment (a released hold sends the payment back to review). */
export const REFUND_OUTCOME_PATCH = 'refund-outcome-to-payment';
/** How a refund payout ended, told to its payment: paid out, or its hold released (canceled or failed). */
export interface RefundEnded {
  refundId: string;
  status: string;
  holdReleased: boolean;
}
/** A refund payout tells its payment workflow that it ended (the payment waits for it before it closes). */
export const refundEndedSignal = defineSignal<[RefundEnded]>('refundEnded');
export const approvePayoutUpdate = defineUpdate<PayoutWorkflowState, [ApprovePayoutRequest]>('approvePayout');
export const cancelPayoutUpdate = defineUpdate<PayoutWorkflowState, [CancelPayoutRequest]>('cancelPayout');
export const payoutStateQuery = defineQuery<PayoutWorkflowState>('payoutState');
/** A revoked destination's workflow calls off the payouts still waiting to be signed (ignored once signing began). */
export const cancelPayoutSignal = defineSignal<[CancelPayoutRequest]>('cancelPayoutSignal');

/** One signed transfer Stablerail sends: what it is for and which key signs it. */
export interface SendRequest {
  /** Unique per intended transfer (payout:po_…, sweep:sw_…:gas:3): signing twice answers the first signature. */
  sendKey: string;
  rail: string;
  environment: 'sandbox' | 'live';
  purpose: 'payout' | 'refund' | 'sweep_gas' | 'sweep';
  key: KeyRef;
  /** token: the rail's token; native: ETH or TRX (gas for a deposit address). */
  asset: 'token' | 'native';
  to: string;
  amountMinor: string;
  /** The address the key must sign from (a deposit address as the service derived it); refused otherwise. */
  expectFrom?: string;
}

export interface SendRecord {
  sendKey: string;
  txHash: string;
  nonce: number | null;
  from: string;
}

/** What watching a broadcast send found: a version mined with enough confirmations, or nothing mined in the stuck window. */
export type WatchOutcome = { kind: 'mined'; outcome: TransferOutcomePayload } | { kind: 'stuck'; waitedBlocks: number };

/** What re-checking a stuck send did. `blocked` carries the code the payout's review shows. */
export type ReplaceOutcome =
  | { kind: 'mined' }
  | { kind: 'replaced'; txHash: string }
  | { kind: 'waiting'; reason: string }
  | { kind: 'blocked'; code: string; message: string };

/** A mined transaction's outcome as it crosses Temporal (no bigint). */
export interface TransferOutcomePayload {
  txHash: string;
  blockHeight: number;
  blockHash: string;
  executed: boolean;
  feeMinor: string;
  confirmations: number;
  transfers: Array<{ logIndex: number; from: string; to: string; amountMinor: string }>;
}

export interface DestinationWorkflowInput {
  destinationId: string;
  coolingOffS: number;
  /** What this workflow's create step writes (the allowlist row and its evidence); absent on older destinations. */
  create?: { merchantId: string; environment: 'sandbox' | 'live'; rail: string; address: string; label: string; actor: string };
  /** A run started only to revoke a destination whose first workflow has ended (an active address). */
  revokeOnly?: boolean;
}
export interface RevokeDestinationRequest {
  /** `op_…@otk_…` for an approver, `api_key:…` for the merchant. */
  actor: string;
  reason: string;
}
export interface DestinationWorkflowState {
  status: string;
  usableAtMs: number | null;
  /** The create step refused the address (already on the allowlist, …): nothing was written. */
  refused?: CreateRefusal | null;
}
/** Update-with-Start's Update: answers the allowlist entry once its row is written. */
export const createDestinationUpdate = defineUpdate<DestinationView, []>('createDestination');
export const approveDestinationUpdate = defineUpdate<DestinationWorkflowState, [ApprovePayoutRequest]>('approveDestination');
export const rejectDestinationUpdate = defineUpdate<DestinationWorkflowState, [ApprovePayoutRequest]>('rejectDestination');
/** Revoke at any time before or after it became usable: no new payout to it, pending ones canceled. */
export const revokeDestinationUpdate = defineUpdate<DestinationWorkflowState, [RevokeDestinationRequest]>('revokeDestination');

/** An operator's execute decision, sent with the sweep workflow's start (Update-with-Start). */
export const executeSweepUpdate = defineUpdate<{ status: 'running' }, [ExecuteSweepRequest]>('executeSweep');
export interface ExecuteSweepRequest {
  operator: string;
}

export interface SweepItem {
  index: string;
  address: string;
  amountMinor: string;
  /** Native asset the deposit address needs before it can send the token (EVM gas); 0 when it has enough. */
  gasTopUpMinor: string;
}

export interface SweepWorkflowInput {
  sweepId: string;
  rail: string;
  railKind: 'evm' | 'tron';
  environment: 'sandbox' | 'live';
  treasuryAddress: string;
  items: SweepItem[];
  confirmationsRequired: number;
}

export interface SweepItemResult {
  index: string;
  address: string;
  status: 'swept' | 'failed';
  gasTxHash: string | null;
  sweepTxHash: string | null;
  feesMinor: string;
  error?: string;
}
