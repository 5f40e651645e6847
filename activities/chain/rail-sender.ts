// Sending on a rail: what payouts and sweeps need beyond reading (rail-adapter.ts). Build an
// unsigned transfer, broadcast a signed one, and judge its outcome from the receipt and the
// token's Transfer log, never from a return value: USDT's ERC20 `transfer` returns nothing and
// its TRC20 one returns false even on success.
import type { ChainTransfer } from './rail-adapter.js';
import type { SignedTx, UnsignedTx } from '../signer/signer.js';

export interface TxOutcome {
  txHash: string;
  blockHeight: number;
  blockHash: string;
  /** Receipt status 1 (EVM) or contractRet SUCCESS (TRON). */
  executed: boolean;
  /** Network fee paid, in the native asset's minor units (wei, sun), decimal string. */
  feeMinor: string;
  /** Head height − block height + 1. */
  confirmations: number;
  /** The rail token's Transfer logs emitted by this transaction. */
  transfers: ChainTransfer[];
}

export interface FeeEstimate {
  /** ETH or TRX. */
  nativeAsset: string;
  nativeDecimals: number;
  /** The most this transaction may burn, in native minor units, decimal string. */
  feeMinor: string;
  /** How it was reached, for the plan a human reads: gas and gas price; energy, bandwidth and their prices. */
  detail: Record<string, string>;
}

export interface RailSender {
  readonly nativeAsset: string;
  readonly nativeDecimals: number;
  /** The next nonce of an address (EVM, pending included); TRON has none and answers 0. */
  nextNonce(address: string): Promise<number>;
  /** A token transfer(to, amount) from `from`, unsigned. `nonce` is required on EVM. */
  buildTokenTransfer(o: { from: string; to: string; amountMinor: bigint; nonce?: number }): Promise<UnsignedTx>;
  /** A native-asset transfer (ETH, TRX), e.g. gas for a deposit address. */
  buildNativeTransfer(o: { from: string; to: string; amountMinor: bigint; nonce?: number }): Promise<UnsignedTx>;
  /** Send a signed transaction. Sending one the node already has is not an error. */
  broadcast(signed: SignedTx): Promise<void>;
  /** The transaction's outcome once mined; null while the chain does not show it. */
  outcome(txHash: string): Promise<TxOutcome | null>;
  /** The chain's head height, to count blocks a transaction has waited. */
  headHeight(): Promise<number>;
  /** The nonce after the last mined transaction of an address (EVM `latest`); TRON answers 0. */
  minedNonce(address: string): Promise<number>;
  /** Whether the node still has the transaction, mined or waiting in its pool. */
  knows(txHash: string): Promise<boolean>;
  /**
   * What replaces a stuck transaction: on EVM the same nonce, call and gas with both fees
   * raised by at least `bumpPct` percent (and to today's market when that is higher); on TRON
   * a fresh build once the old one's expiration has passed. Null while it cannot be replaced yet.
   */
  buildReplacement(o: { raw: string; from: string; to: string; asset: 'token' | 'native'; amountMinor: bigint; bumpPct: number }): Promise<UnsignedTx | null>;
  tokenBalance(address: string): Promise<bigint>;
  nativeBalance(address: string): Promise<bigint>;
  /** What a token transfer from `from` would cost in the native asset. */
  estimateTokenTransferFee(o: { from: string; to: string; amountMinor: bigint }): Promise<FeeEstimate>;
  close(): void;
}

/** The node refused a transaction for good (bad signature, nonce used by another one, no funds). */
export class BroadcastRejectedError extends Error {
  override name = 'BroadcastRejectedError';
}
