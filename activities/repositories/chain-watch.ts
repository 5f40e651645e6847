// The chain watcher's records: each rail's cursor and recent block hashes (to see reorgs), the
// transfers to deposit addresses and from the treasury, what each payment was last told, and the
// money nothing matched. TypedSQL run by typedRows on the ingest's pg transaction (prepared once
// per connection: every batch runs these; docs/benchmarks.md, ingest) or on the pool.
import type { AnyTx, Pool } from '../db.js';
import { typedRows } from '../db.js';
import { chainBlockHashAt } from './sql/chainBlockHashAt.js';
import { chainBlocksNear } from './sql/chainBlocksNear.js';
import { chainBlocksPrune } from './sql/chainBlocksPrune.js';
import { chainBlocksUpsert } from './sql/chainBlocksUpsert.js';
import { chainCursor } from './sql/chainCursor.js';
import { chainCursorAdvance } from './sql/chainCursorAdvance.js';
import { chainCursorInsert } from './sql/chainCursorInsert.js';
import { chainCursorLocked } from './sql/chainCursorLocked.js';
import { chainExceptionInsert } from './sql/chainExceptionInsert.js';
import { chainRollBack } from './sql/chainRollBack.js';
import { chainTransfersOfPayments } from './sql/chainTransfersOfPayments.js';
import { chainTransfersUpsert } from './sql/chainTransfersUpsert.js';
import { depositAddressOwners } from './sql/depositAddressOwners.js';
import { paymentChainViewSet } from './sql/paymentChainViewSet.js';
import { paymentChainViewsUnsettle } from './sql/paymentChainViewsUnsettle.js';
import { paymentChainViewsUnsettled } from './sql/paymentChainViewsUnsettled.js';
import { paymentsOldestOnRail } from './sql/paymentsOldestOnRail.js';
import { treasuryTransfersUpsert } from './sql/treasuryTransfersUpsert.js';
import { treasuryWalletOf } from './sql/treasuryWalletOf.js';

type Db = AnyTx | Pool;

export interface BlockRef { height: number; hash: string; parentHash: string }
export interface TransferRow { txHash: string; logIndex: number; blockHeight: number; blockHash: string; from: string; to: string; amountMinor: string }

export async function cursorOf(c: Db, rail: string) {
  return (await typedRows(c, chainCursor(rail), 'chain_cursor'))[0];
}

export async function lockedCursor(c: AnyTx, rail: string) {
  return (await typedRows(c, chainCursorLocked(rail), 'chain_cursor_locked'))[0];
}

export async function oldestPaymentAt(c: Db, rail: string): Promise<Date | null> {
  return (await typedRows(c, paymentsOldestOnRail(rail)))[0]?.at ?? null;
}

/** The rail's first cursor at a block (with that block's hash kept); false when a cursor existed. */
export async function insertFirstCursor(c: AnyTx, rail: string, b: BlockRef, head: number): Promise<boolean> {
  const inserted = await typedRows(c, chainCursorInsert(rail, b.height, b.hash, head));
  if (inserted.length === 0) return false;
  await storeBlocks(c, rail, [b]);
  return true;
}

export async function storeBlocks(c: AnyTx, rail: string, blocks: BlockRef[]): Promise<void> {
  await typedRows(c, chainBlocksUpsert(rail, blocks.map((b) => b.height), blocks.map((b) => b.hash), blocks.map((b) => b.parentHash)), 'chain_blocks_upsert');
}

export function blocksNear(c: AnyTx, rail: string, fromHeight: number, depth: number) {
  return typedRows(c, chainBlocksNear(rail, fromHeight, depth));
}

export async function blockHashAt(c: AnyTx, rail: string, height: number): Promise<string | undefined> {
  return (await typedRows(c, chainBlockHashAt(rail, height), 'chain_block_hash_at'))[0]?.hash;
}

export async function pruneBlocksBelow(c: AnyTx, rail: string, height: number): Promise<void> {
  await typedRows(c, chainBlocksPrune(rail, height), 'chain_blocks_prune');
}

export async function advanceCursor(c: AnyTx, rail: string, a: { processed: number; processedHash: string; head: number; finalized: number; reorged: boolean }): Promise<void> {
  await typedRows(c, chainCursorAdvance(rail, a.processed, a.processedHash, a.head, a.finalized, a.reorged ? 1 : 0), 'chain_cursor_advance');
}

/** Rolls the rail back to a common ancestor (prisma/sql/chainRollBack.sql); answers the payments whose transfers went away. */
export async function rollBackTo(c: AnyTx, rail: string, ancestor: number): Promise<string[]> {
  return (await typedRows(c, chainRollBack(rail, ancestor))).map((r) => r.payment_id!);
}

export async function treasuryWallet(c: AnyTx, rail: string): Promise<string | undefined> {
  return (await typedRows(c, treasuryWalletOf(rail), 'treasury_wallet_of'))[0]?.address;
}

const columns = (ts: TransferRow[]) =>
  [ts.map((t) => t.txHash), ts.map((t) => t.logIndex), ts.map((t) => t.blockHeight), ts.map((t) => t.blockHash), ts.map((t) => t.from), ts.map((t) => t.to), ts.map((t) => t.amountMinor)] as const;

export async function storeTreasuryTransfers(c: AnyTx, rail: string, ts: TransferRow[]): Promise<void> {
  await typedRows(c, treasuryTransfersUpsert(rail, ...columns(ts)));
}

/** Which of these addresses are deposit addresses of the rail, with the payment each is assigned to (null: none). */
export async function depositOwners(c: AnyTx, rail: string, addresses: string[]) {
  return typedRows(c, depositAddressOwners(rail, addresses), 'deposit_address_owners');
}

/** Transfers to watched addresses, each with its payment (null: unmatched). */
export async function storeTransfers(c: AnyTx, rail: string, ts: Array<TransferRow & { paymentId: string | null }>): Promise<void> {
  // A null in the text[] of payment ids is a transfer that matched no payment.
  await typedRows(c, chainTransfersUpsert(rail, ...columns(ts), ts.map((t) => t.paymentId) as string[]), 'chain_transfers_upsert');
}

export async function unsettleViews(c: AnyTx, rail: string, paymentIds: string[]): Promise<void> {
  await typedRows(c, paymentChainViewsUnsettle(rail, paymentIds), 'payment_chain_views_unsettle');
}

/** Records an exception once per transfer and code; true when it is new. */
export async function insertException(c: AnyTx, e: { id: string; rail: string; txHash: string; logIndex: number; code: string; to: string; amountMinor: string; paymentId: string | null; detail: Record<string, unknown> }): Promise<boolean> {
  const rows = await typedRows(c, chainExceptionInsert(e.id, e.rail, e.txHash, e.logIndex, e.code, e.to, e.amountMinor, e.paymentId, JSON.stringify(e.detail)));
  return rows.length > 0;
}

export function unsettledViews(pool: Pool, rail: string, limit: number) {
  return typedRows(pool, paymentChainViewsUnsettled(rail, limit), 'payment_chain_views_unsettled');
}

export function transfersOfPayments(pool: Pool, rail: string, paymentIds: string[]) {
  return typedRows(pool, chainTransfersOfPayments(rail, paymentIds), 'chain_transfers_of_payments');
}

/** What a payment was told (version and digest; null: as it was) and whether it is settled. */
export async function setView(pool: Pool, paymentId: string, v: { version: number | null; digest: string | null; settled: boolean }): Promise<void> {
  await typedRows(pool, paymentChainViewSet(paymentId, v.version, v.digest, v.settled), 'payment_chain_view_set');
}
