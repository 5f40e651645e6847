// The double-entry ledger. Amounts are signed bigint minor units: positive debits, negative
// credits; every entry sums to zero per asset (asserted here before the write, enforced by a
// deferred constraint trigger in PostgreSQL at commit). Entry ids derive from their cause, so
// posting the same cause twice (an activity retry, a workflow replay) is a no-op.
import type { DbClient, Pool } from './db.js';
import { sha256Hex } from './ids.js';

export type OwnerType = 'merchant' | 'rail' | 'platform' | 'external';
export type Purpose = 'pending' | 'available' | 'custody' | 'fees' | 'network_fees' | 'external' | 'payout_hold';

/** Which side an account's balance is shown on: liabilities and revenue are credit-normal. */
export const CREDIT_NORMAL: ReadonlySet<Purpose> = new Set(['pending', 'available', 'fees', 'payout_hold']);

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
  const acc = [...accounts.entries()];
  await c.query(
    `INSERT INTO ledger_accounts (id, environment, owner_type, owner_id, purpose, asset)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
     ON CONFLICT (id) DO NOTHING`,
    [acc.map(([id]) => id), acc.map(([, a]) => a.environment), acc.map(([, a]) => a.ownerType), acc.map(([, a]) => a.ownerId), acc.map(([, a]) => a.purpose), acc.map(([, a]) => a.asset)],
  );
  const now = new Date();
  const ids = postings.map((p) => postingId(p.cause));
  const { rows } = await c.query<{ id: string }>(
    `INSERT INTO ledger_entries (id, cause, environment, merchant_id, payment_id, rail, tx_hash, log_index, gate, reverses_id, memo, effective_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])
     ON CONFLICT (cause) DO NOTHING RETURNING id`,
    [
      ids,
      postings.map((p) => p.cause),
      postings.map((p) => p.environment),
      postings.map((p) => p.merchantId ?? null),
      postings.map((p) => p.paymentId ?? null),
      postings.map((p) => p.rail ?? null),
      postings.map((p) => p.txHash ?? null),
      postings.map((p) => p.logIndex ?? null),
      postings.map((p) => p.gate),
      postings.map((p) => p.reversesId ?? null),
      postings.map((p) => p.memo ?? null),
      postings.map((p) => (p.effectiveAt ?? now).toISOString()),
    ],
  );
  const fresh = new Set(rows.map((r) => r.id));
  const lineRows: Array<[string, number, string, string, string, string]> = [];
  postings.forEach((p, i) => {
    if (!fresh.has(ids[i]!)) return;
    p.lines.forEach((l, n) => lineRows.push([ids[i]!, n + 1, accountId(l.account), l.account.asset, l.amountMinor.toString(), (p.effectiveAt ?? now).toISOString()]));
  });
  if (lineRows.length > 0) {
    await c.query(
      `INSERT INTO ledger_lines (entry_id, line_no, account_id, asset, amount_minor, effective_at)
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::numeric[], $6::timestamptz[])`,
      [lineRows.map((r) => r[0]), lineRows.map((r) => r[1]), lineRows.map((r) => r[2]), lineRows.map((r) => r[3]), lineRows.map((r) => r[4]), lineRows.map((r) => r[5])],
    );
  }
  return { inserted: ids.filter((id) => fresh.has(id)), skipped: ids.filter((id) => !fresh.has(id)) };
}

/** The reversal of an entry: the same lines negated, linked by reverses_id (at most one per entry). */
export async function reversalOf(c: DbClient | Pool, entryId: string, cause: string, gate: string): Promise<Posting | null> {
  const { rows: e } = await c.query(`SELECT * FROM ledger_entries WHERE id = $1`, [entryId]);
  if (!e[0]) return null;
  const { rows: lines } = await c.query(
    `SELECT l.amount_minor::text AS amount, a.owner_type, a.owner_id, a.environment, a.purpose, a.asset
       FROM ledger_lines l JOIN ledger_accounts a ON a.id = l.account_id WHERE l.entry_id = $1 ORDER BY l.line_no`,
    [entryId],
  );
  return {
    cause,
    environment: e[0].environment,
    gate,
    merchantId: e[0].merchant_id ?? undefined,
    paymentId: e[0].payment_id ?? undefined,
    rail: e[0].rail ?? undefined,
    txHash: e[0].tx_hash ?? undefined,
    logIndex: e[0].log_index ?? undefined,
    reversesId: entryId,
    memo: `reversal of ${entryId}`,
    lines: lines.map((l) => ({
      account: { ownerType: l.owner_type, ownerId: l.owner_id, environment: l.environment, purpose: l.purpose, asset: l.asset },
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
  const { rows } = await pool.query(
    `SELECT a.id, a.owner_type, a.owner_id, a.purpose, a.asset, COALESCE(sum(l.amount_minor), 0)::text AS debit_balance
       FROM ledger_accounts a
       LEFT JOIN ledger_lines l ON l.account_id = a.id AND ($3::timestamptz IS NULL OR l.effective_at <= $3)
      WHERE a.environment = $1 AND ($2::text IS NULL OR (a.owner_type = 'merchant' AND a.owner_id = $2))
      GROUP BY a.id ORDER BY a.id`,
    [q.environment, q.merchantId ?? null, q.asOf?.toISOString() ?? null],
  );
  return rows.map((r) => ({
    account: r.id,
    owner_type: r.owner_type,
    owner_id: r.owner_id,
    purpose: r.purpose,
    asset: r.asset,
    balance_minor: CREDIT_NORMAL.has(r.purpose) ? -BigInt(r.debit_balance) : BigInt(r.debit_balance),
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
  const { rows } = await pool.query(
    `SELECT l.entry_id, l.line_no, l.effective_at, l.account_id AS account, a.purpose, l.asset, l.amount_minor::text,
            e.gate, e.payment_id, p.reference, e.tx_hash, e.log_index, e.rail, e.reverses_id, e.memo
       FROM ledger_entries e
       JOIN ledger_lines l ON l.entry_id = e.id
       JOIN ledger_accounts a ON a.id = l.account_id
       LEFT JOIN payments p ON p.id = e.payment_id
      WHERE e.environment = $1 AND ($2::text IS NULL OR e.merchant_id = $2)
        AND ($3::timestamptz IS NULL OR e.effective_at <= $3)
        AND ($4::text IS NULL OR (e.effective_at, e.id) > (SELECT effective_at, id FROM ledger_entries WHERE id = $4))
      ORDER BY e.effective_at, e.id, l.line_no
      LIMIT $5`,
    [q.environment, q.merchantId ?? null, q.asOf?.toISOString() ?? null, q.afterEntryId ?? null, Math.min(q.limit, ENTRIES_PAGE_MAX) * LINES_PER_ENTRY_MAX],
  );
  // Whole entries only: cut at the last complete entry within the limit.
  const out: EntryLineRow[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    if (!seen.has(r.entry_id)) {
      if (seen.size >= q.limit) break;
      seen.add(r.entry_id);
    }
    out.push(r);
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
