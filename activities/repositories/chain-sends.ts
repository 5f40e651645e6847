// Sends the signer made, crash-safe (activities/chain/send.ts says the order): the signed
// bytes, their versions when a stuck send was replaced, the outcome as mined, and each wallet's
// nonce counter. TypedSQL run by typedRows on the pool or the send's pg transaction, which may
// also post the network fee to the ledger (raw pg) and append evidence.
import type { AnyTx, Pool } from '../db.js';
import { typedRows } from '../db.js';
import { chainSendAdoptMined } from './sql/chainSendAdoptMined.js';
import { chainSendAtNonce } from './sql/chainSendAtNonce.js';
import { chainSendAttemptInsert } from './sql/chainSendAttemptInsert.js';
import { chainSendAttemptsOf } from './sql/chainSendAttemptsOf.js';
import { chainSendAttemptsSettle } from './sql/chainSendAttemptsSettle.js';
import { chainSendBroadcast } from './sql/chainSendBroadcast.js';
import { chainSendByKey } from './sql/chainSendByKey.js';
import { chainSendInsert } from './sql/chainSendInsert.js';
import { chainSendLock } from './sql/chainSendLock.js';
import { chainSendNonceFillsBelow } from './sql/chainSendNonceFillsBelow.js';
import { chainSendOutcome } from './sql/chainSendOutcome.js';
import { chainSendReject } from './sql/chainSendReject.js';
import { chainSendReopen } from './sql/chainSendReopen.js';
import { signerNonceEnsure } from './sql/signerNonceEnsure.js';
import { signerNonceLocked } from './sql/signerNonceLocked.js';
import { signerNonceSet } from './sql/signerNonceSet.js';

type Db = AnyTx | Pool;

export interface SendRow {
  send_key: string;
  rail: string;
  environment: 'sandbox' | 'live';
  purpose: string;
  tx_hash: string;
  nonce: number | null;
  from_address: string;
  to_address: string;
  asset: string;
  amount_minor: string;
  raw: string;
  status: string;
  key_ref: string | null;
}

export interface MinedOutcome {
  executed: boolean;
  feeMinor: string;
  blockHeight: number;
  blockHash: string;
}

export async function sendByKey(c: Db, sendKey: string): Promise<SendRow | undefined> {
  return (await typedRows(c, chainSendByKey(sendKey)))[0] as SendRow | undefined;
}

export function versionsOf(c: Db, sendKey: string) {
  return typedRows(c, chainSendAttemptsOf(sendKey));
}

/** The mined version wins: the send row carries it, the other versions are marked replaced. */
export async function adoptMined(c: AnyTx, sendKey: string, txHash: string, raw: string, out: MinedOutcome): Promise<void> {
  await typedRows(c, chainSendAdoptMined(sendKey, txHash, raw, out.executed ? 'executed' : 'reverted', out.feeMinor, out.blockHeight, out.blockHash));
  await typedRows(c, chainSendAttemptsSettle(sendKey, txHash));
}

/** One signer of this send key at a time, until the transaction ends. */
export async function lockSendKey(c: AnyTx, sendKey: string): Promise<void> {
  await typedRows(c, chainSendLock(sendKey));
}

export async function sendAtNonce(c: Db, rail: string, from: string, nonce: number): Promise<string | undefined> {
  return (await typedRows(c, chainSendAtNonce(rail, from, nonce)))[0]?.send_key;
}

export async function insertSend(c: AnyTx, s: { sendKey: string; rail: string; environment: string; purpose: string; from: string; to: string; asset: string; amountMinor: string; nonce: number | null; txHash: string; raw: string; feeAsset: string; keyRef: string }): Promise<void> {
  await typedRows(c, chainSendInsert(s.sendKey, s.rail, s.environment, s.purpose, s.from, s.to, s.asset, s.amountMinor, s.nonce, s.txHash, s.raw, s.feeAsset, s.keyRef));
}

export async function markBroadcast(c: Db, sendKey: string): Promise<void> {
  await typedRows(c, chainSendBroadcast(sendKey));
}

export async function nonceFillsBelow(c: Db, rail: string, from: string, below: number, limit: number): Promise<SendRow[]> {
  return (await typedRows(c, chainSendNonceFillsBelow(rail, from, below, limit))) as SendRow[];
}

/** The send's outcome as mined; with onlyUnsettled, only while it is signed or broadcast. True when it moved. */
export async function recordOutcome(c: Db, sendKey: string, out: MinedOutcome, onlyUnsettled: boolean): Promise<boolean> {
  const moved = await typedRows(c, chainSendOutcome(sendKey, out.executed ? 'executed' : 'reverted', out.feeMinor, out.blockHeight, out.blockHash, onlyUnsettled));
  return moved.length > 0;
}

/**
 * The wallet's next nonce, its counter row locked to the transaction's end (created at 0 the
 * first time): every send from the wallet serializes here.
 */
export async function lockedNextNonce(c: AnyTx, rail: string, address: string): Promise<number> {
  await typedRows(c, signerNonceEnsure(rail, address));
  return (await typedRows(c, signerNonceLocked(rail, address)))[0]!.next_nonce;
}

export async function setNextNonce(c: AnyTx, rail: string, address: string, next: number): Promise<void> {
  await typedRows(c, signerNonceSet(rail, address, next, false));
}

/** Gives `nonce` back when it was the last one handed out; true when it did. */
export async function giveBackNonce(c: AnyTx, rail: string, address: string, nonce: number): Promise<boolean> {
  return (await typedRows(c, signerNonceSet(rail, address, nonce, true))).length > 0;
}

export async function markRejected(c: AnyTx, sendKey: string): Promise<void> {
  await typedRows(c, chainSendReject(sendKey));
}

/** A signed version of a send; one recorded already is left alone. */
export async function insertVersion(c: AnyTx, sendKey: string, attempt: number, txHash: string, raw: string, reason: string): Promise<void> {
  await typedRows(c, chainSendAttemptInsert(sendKey, attempt, txHash, raw, reason));
}

/** A reorg took the mined send out: broadcast again, outcome cleared, its version pending. */
export async function reopenSend(c: Db, sendKey: string, txHash: string): Promise<void> {
  await typedRows(c, chainSendReopen(sendKey, txHash));
}
