// The ledger's database side. Reads of balances and entry lines are set-based (a sum per
// account over immutable lines; a keyset-paged join), so they are TypedSQL files in prisma/sql
// run through Prisma Client's $queryRawTyped, or by typedRows on the caller's pg transaction
// when a posting depends on them (a hold's balance check, a refund's or write-off's sources, a
// reorg's reversals). Postings stay raw node-postgres statements on the caller's transaction,
// as measured in docs/benchmarks.md ("Ledger postings").
import type { AnyTx, DbClient, Pool } from '../db.js';
import { prismaOf, typedRows } from '../db.js';
import { ledgerAccountBalance } from './sql/ledgerAccountBalance.js';
import { ledgerBalanceLock } from './sql/ledgerBalanceLock.js';
import { ledgerEntryAccountLines } from './sql/ledgerEntryAccountLines.js';
import { ledgerEntryHead } from './sql/ledgerEntryHead.js';
import { ledgerUnreversedByCause } from './sql/ledgerUnreversedByCause.js';
import { paymentPostedToMerchant } from './sql/paymentPostedToMerchant.js';
import { ledgerBalances } from './sql/ledgerBalances.js';
import { ledgerEntryLines } from './sql/ledgerEntryLines.js';

export type BalanceSqlRow = ledgerBalances.Result;
export type EntryLineSqlRow = ledgerEntryLines.Result;

/** prisma/sql/ledgerBalances.sql */
export function accountBalances(pool: Pool, q: { environment: string; merchantId?: string; asOf?: Date }): Promise<BalanceSqlRow[]> {
  return prismaOf(pool).$queryRawTyped(ledgerBalances(q.environment, q.merchantId ?? null, q.asOf ?? null));
}

/** prisma/sql/ledgerEntryLines.sql */
export function entryLines(pool: Pool, q: { environment: string; merchantId?: string; asOf?: Date; afterEntryId?: string; lineLimit: number }): Promise<EntryLineSqlRow[]> {
  return prismaOf(pool).$queryRawTyped(ledgerEntryLines(q.environment, q.merchantId ?? null, q.asOf ?? null, q.afterEntryId ?? null, q.lineLimit));
}

/** Whether an entry belongs to the merchant and environment (a page's cursor must). */
export async function entryInScope(pool: Pool, entryId: string, scope: { merchantId: string; environment: string }): Promise<boolean> {
  const e = await prismaOf(pool).ledgerEntry.findFirst({ where: { id: entryId, merchantId: scope.merchantId, environment: scope.environment }, select: { id: true } });
  return e !== null;
}

export type AccountInsert = [id: string, environment: string, ownerType: string, ownerId: string, purpose: string, asset: string];
export interface EntryInsert {
  id: string;
  cause: string;
  environment: string;
  merchantId: string | null;
  paymentId: string | null;
  payoutId: string | null;
  rail: string | null;
  txHash: string | null;
  logIndex: number | null;
  gate: string;
  reversesId: string | null;
  memo: string | null;
  effectiveAt: string;
}
export type LineInsert = [entryId: string, lineNo: number, accountId: string, asset: string, amountMinor: string, effectiveAt: string];

// Raw: the posting benchmark's batched path, 7,877 entries/s (docs/benchmarks.md, Ledger postings).
export async function insertAccounts(c: DbClient, acc: AccountInsert[]): Promise<void> {
  await c.query(
    `INSERT INTO ledger_accounts (id, environment, owner_type, owner_id, purpose, asset)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
     ON CONFLICT (id) DO NOTHING`,
    [0, 1, 2, 3, 4, 5].map((i) => acc.map((a) => a[i])),
  );
}

// Raw: the posting benchmark's batched path, 7,877 entries/s; one hot account 1,028/s (docs/benchmarks.md).
/** Entries whose cause exists already are skipped: the ids returned are the ones inserted. */
export async function insertEntries(c: DbClient, entries: EntryInsert[]): Promise<Set<string>> {
  const { rows } = await c.query<{ id: string }>(
    `INSERT INTO ledger_entries (id, cause, environment, merchant_id, payment_id, rail, tx_hash, log_index, gate, reverses_id, memo, effective_at, payout_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::text[])
     ON CONFLICT (cause) DO NOTHING RETURNING id`,
    [
      entries.map((e) => e.id),
      entries.map((e) => e.cause),
      entries.map((e) => e.environment),
      entries.map((e) => e.merchantId),
      entries.map((e) => e.paymentId),
      entries.map((e) => e.rail),
      entries.map((e) => e.txHash),
      entries.map((e) => e.logIndex),
      entries.map((e) => e.gate),
      entries.map((e) => e.reversesId),
      entries.map((e) => e.memo),
      entries.map((e) => e.effectiveAt),
      entries.map((e) => e.payoutId),
    ],
  );
  return new Set(rows.map((r) => r.id));
}

// Raw: the posting benchmark's batched path, 7,877 entries/s (docs/benchmarks.md, Ledger postings).
export async function insertLines(c: DbClient, lines: LineInsert[]): Promise<void> {
  if (lines.length === 0) return;
  await c.query(
    `INSERT INTO ledger_lines (entry_id, line_no, account_id, asset, amount_minor, effective_at)
     SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::numeric[], $6::timestamptz[])`,
    [0, 1, 2, 3, 4, 5].map((i) => lines.map((l) => l[i])),
  );
}

export interface ReversibleEntry {
  environment: string;
  merchant_id: string | null;
  payment_id: string | null;
  payout_id: string | null;
  rail: string | null;
  tx_hash: string | null;
  log_index: number | null;
  lines: Array<{ amount: string; owner_type: string; owner_id: string; environment: string; purpose: string; asset: string }>;
}

/**
 * An entry and its lines with their accounts, read on the caller's transaction (its reversal
 * is posted in the same one), by typedRows on its pg client.
 */
export async function entryWithLines(c: DbClient | Pool, entryId: string): Promise<ReversibleEntry | null> {
  const [e] = await typedRows(c, ledgerEntryHead(entryId));
  if (!e) return null;
  const lines = await typedRows(c, ledgerEntryAccountLines(entryId));
  return { ...e, lines } as ReversibleEntry;
}

/** Every hold against this account waits for the one before it, until the transaction ends. */
export async function lockAccountBalance(c: AnyTx, accountId: string): Promise<void> {
  await typedRows(c, ledgerBalanceLock(accountId));
}

/** The account's balance, debit-positive, in minor units. */
export async function accountDebitBalance(c: AnyTx, accountId: string): Promise<bigint> {
  const [row] = await typedRows(c, ledgerAccountBalance(accountId));
  return BigInt(row?.debit_minor ?? '0');
}

/** What a payment's own entries left on the merchant's pending and available accounts (credit-normal). */
export async function paymentPostedCredits(c: AnyTx, paymentId: string): Promise<{ pending: bigint; available: bigint }> {
  const rows = await typedRows(c, paymentPostedToMerchant(paymentId));
  const of = (purpose: string) => BigInt(rows.find((r) => r.purpose === purpose)?.credit_minor ?? '0');
  return { pending: of('pending'), available: of('available') };
}

/** The ids of a cause's entries that nothing reverses yet. */
export async function unreversedEntries(c: AnyTx, cause: string): Promise<string[]> {
  return (await typedRows(c, ledgerUnreversedByCause(cause))).map((r) => r.id);
}
