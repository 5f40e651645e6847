// The double-entry ledger. Amounts are signed bigint minor units: positive debits, negative
// credits; every entry sums to zero per asset (asserted here before the write, enforced by a
// deferred constraint trigger in PostgreSQL at commit). Entry ids derive from their cause, so
// posting the same cause twice (an activity retry, a workflow replay) is a no-op.
import type { DbClient, Pool } from './db.js';
import { sha256Hex } from './ids.js';
import * as repo from './repositories/ledger.js';

export type OwnerType = 'merchant' | 'rail' | 'platform' | 'external';
export type Purpose = 'pending' | 'available' | 'custody' | 'fees' | 'network_fees' | 'external' | 'payout_hold' | 'payout_in_flight' | 'write_offs';

/** Which side an account's balance is shown on: liabilities and revenue are credit-normal. */
export const CREDIT_NORMAL: ReadonlySet<Purpose> = new Set(['pending', 'available', 'fees', 'payout_hold', 'payout_in_flight', 'write_offs']);

export interface AccountRef {
  ownerType: OwnerType;
  ownerId: string;
  environment: 'sandbox' | 'live';
  purpose: Purpose;
  asset: string;
}

export const accountId = (a: AccountRef): string => `${a.ownerType}:${a.ownerId}:${a.environment}:${a.purpose}:${a.asset}`;

export interface PostingLine {
  account: AccountRef;
  /** Positive debits, negative credits. */
  amountMinor: bigint;
}

export interface Posting {
  /** What caused it, in words a reviewer can read: the entry id is derived from it. */
  cause: string;
  environment: 'sandbox' | 'live';
  gate: string;
  merchantId?: string;
  paymentId?: string;
  /** The payout or refund it belongs to. */
  payoutId?: string;
  rail?: string;
  txHash?: string;
  logIndex?: number;
  reversesId?: string;
  memo?: string;
  effectiveAt?: Date;
  lines: PostingLine[];
}

export const LINES_PER_ENTRY_MAX = 16;

export class UnbalancedPostingError extends Error {
  override name = 'UnbalancedPostingError';
}

export const postingId = (cause: string): string => `pst_${sha256Hex(cause).slice(0, 32)}`;

export function assertBalanced(lines: PostingLine[]): void {
  if (lines.length < 2 || lines.length > LINES_PER_ENTRY_MAX) throw new UnbalancedPostingError(`a posting needs 2 to ${LINES_PER_ENTRY_MAX} lines, got ${lines.length}`);
  const sums = new Map<string, bigint>();
  for (const l of lines) {
    if (l.amountMinor === 0n) throw new UnbalancedPostingError('a zero line carries no meaning');
    sums.set(l.account.asset, (sums.get(l.account.asset) ?? 0n) + l.amountMinor);
  }
  for (const [asset, s] of sums) if (s !== 0n) throw new UnbalancedPostingError(`posting does not balance in ${asset}: ${s}`);
}

/**
 * Post many entries in one transaction with three multi-row statements (accounts, entries,
 * lines): the batched data plane. Entries whose cause exists already are skipped, with their lines.
 */
export async function postEntries(c: DbClient, postings: Posting[]): Promise<{ inserted: string[]; skipped: string[] }> {
  if (postings.length === 0) return { inserted: [], skipped: [] };
  for (const p of postings) assertBalanced(p.lines);
  const accounts = new Map<string, AccountRef>();
  for (const p of postings) for (const l of p.lines) accounts.set(accountId(l.account), l.account);
  await repo.insertAccounts(c, [...accounts.entries()].map(([id, a]) => [id, a.environment, a.ownerType, a.ownerId, a.purpose, a.asset]));
  const now = new Date();
  const ids = postings.map((p) => postingId(p.cause));
  const fresh = await repo.insertEntries(
    c,
    postings.map((p, i) => ({
      id: ids[i]!,
      cause: p.cause,
      environment: p.environment,
      merchantId: p.merchantId ?? null,
      paymentId: p.paymentId ?? null,
      payoutId: p.payoutId ?? null,
      rail: p.rail ?? null,
      txHash: p.txHash ?? null,
      logIndex: p.logIndex ?? null,
      gate: p.gate,
      reversesId: p.reversesId ?? null,
      memo: p.memo ?? null,
      effectiveAt: (p.effectiveAt ?? now).toISOString(),
    })),
  );
  const lineRows: repo.LineInsert[] = [];
  postings.forEach((p, i) => {
    if (!fresh.has(ids[i]!)) return;
    p.lines.forEach((l, n) => lineRows.push([ids[i]!, n + 1, accountId(l.account), l.account.asset, l.amountMinor.toString(), (p.effectiveAt ?? now).toISOString()]));
  });
  await repo.insertLines(c, lineRows);
  return { inserted: ids.filter((id) => fresh.has(id)), skipped: ids.filter((id) => !fresh.has(id)) };
}

/** The reversal of an entry: the same lines negated, linked by reverses_id (at most one per entry). */
export async function reversalOf(c: DbClient | Pool, entryId: string, cause: string, gate: string): Promise<Posting | null> {
  const e = await repo.entryWithLines(c, entryId);
  if (!e) return null;
  return {
    cause,
    environment: e.environment as Posting['environment'],
    gate,
    merchantId: e.merchant_id ?? undefined,
    paymentId: e.payment_id ?? undefined,
    payoutId: e.payout_id ?? undefined,
    rail: e.rail ?? undefined,
    txHash: e.tx_hash ?? undefined,
    logIndex: e.log_index ?? undefined,
    reversesId: entryId,
    memo: `reversal of ${entryId}`,
    lines: e.lines.map((l) => ({
      account: { ownerType: l.owner_type as OwnerType, ownerId: l.owner_id, environment: l.environment as AccountRef['environment'], purpose: l.purpose as Purpose, asset: l.asset },
      amountMinor: -BigInt(l.amount),
    })),
  };
}

export interface BalanceRow {
  account: string;
  owner_type: OwnerType;
  owner_id: string;
  purpose: Purpose;
  asset: string;
  /** On the account's normal side: a merchant's available balance is positive when owed to it. */
  balance_minor: bigint;
}

export async function balances(pool: Pool, q: { environment: 'sandbox' | 'live'; merchantId?: string; asOf?: Date }): Promise<BalanceRow[]> {
  const rows = await repo.accountBalances(pool, q);
  return rows.map((r) => ({
    account: r.id,
    owner_type: r.owner_type as OwnerType,
    owner_id: r.owner_id,
    purpose: r.purpose as Purpose,
    asset: r.asset,
    balance_minor: CREDIT_NORMAL.has(r.purpose as Purpose) ? -BigInt(r.debit_balance ?? '0') : BigInt(r.debit_balance ?? '0'),
  }));
}

export interface EntryLineRow {
  entry_id: string;
  line_no: number;
  effective_at: Date;
  account: string;
  purpose: Purpose;
  asset: string;
  amount_minor: string;
  gate: string;
  payment_id: string | null;
  payout_id: string | null;
  reference: string | null;
  tx_hash: string | null;
  log_index: number | null;
  rail: string | null;
  reverses_id: string | null;
  memo: string | null;
}

export const ENTRIES_PAGE_MAX = 1000;

/** Lines of a merchant's entries (or all, for operators), oldest first, up to asOf, keyset-paged. */
export async function entryLines(
  pool: Pool,
  q: { environment: 'sandbox' | 'live'; merchantId?: string; asOf?: Date; afterEntryId?: string; limit: number },
): Promise<EntryLineRow[]> {
  const rows = await repo.entryLines(pool, { ...q, lineLimit: Math.min(q.limit, ENTRIES_PAGE_MAX) * LINES_PER_ENTRY_MAX });
  // Whole entries only: cut at the last complete entry within the limit.
  const out: EntryLineRow[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    if (!seen.has(r.entry_id)) {
      if (seen.size >= q.limit) break;
      seen.add(r.entry_id);
    }
    out.push({ ...r, purpose: r.purpose as Purpose, amount_minor: r.amount_minor ?? '0' });
  }
  return out;
}

/** RFC 4180 CSV: quote every field that needs it, CRLF line ends as spreadsheets expect. */
export function toCsv(header: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cell = (v: string | number | null | undefined) => {
    const s = v === null || v === undefined ? '' : String(v);
    // A leading = + - @ would be run as a formula by spreadsheets: prefix it.
    const safe = /^[=+\-@\t\r]/.test(s) && !/^-?[0-9.]+$/.test(s) ? `'${s}` : s;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
