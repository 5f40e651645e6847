// `npm run bench -- ledger`: postings per second on the real embedded PostgreSQL (fsync on),
// batched (many entries per transaction, three multi-row statements) and on one hot account
// (one entry per transaction, several in flight), beside raw single-row inserts in the same run.
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { createPool, withTx } from '../../activities/db.js';
import { postEntries, type AccountRef, type Posting } from '../../activities/ledger.js';
import { migrate } from '../../prisma/migrate.js';
import { startEmbeddedPostgres } from '../embedded/postgres.js';
import { freePort } from '../embedded/temporal.js';
import { callsPerSecond } from './closed-loop.js';

const BATCHED_POSTINGS = Number(process.env.BENCH_POSTINGS ?? 50_000);
const BATCH_SIZE = 1_000;
const HOT_POSTINGS = Number(process.env.BENCH_HOT_POSTINGS ?? 5_000);
const HOT_IN_FLIGHT = 16;

const acct = (ownerId: string, purpose: AccountRef['purpose']): AccountRef => ({ ownerType: 'merchant', ownerId, environment: 'sandbox', purpose, asset: 'USDT' });
const custody: AccountRef = { ownerType: 'rail', ownerId: 'usdt-erc20', environment: 'sandbox', purpose: 'custody', asset: 'USDT' };

function posting(cause: string, merchant: string, amount: bigint): Posting {
  return { cause, environment: 'sandbox', gate: 'bench', merchantId: merchant, lines: [{ account: custody, amountMinor: amount }, { account: acct(merchant, 'pending'), amountMinor: -amount }] };
}

export async function main(_argv: string[]): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'stablerail-bench-ledger-'));
  chmodSync(root, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: join(root, 'pg'), port: await freePort() });
  try {
    await migrate(pg.url);
    const pool = createPool(pg.url, HOT_IN_FLIGHT + 2);
    await pool.query('CREATE TABLE bench_rows (id text PRIMARY KEY, amount numeric(78,0) NOT NULL)');
    const raw = await callsPerSecond(HOT_POSTINGS, HOT_IN_FLIGHT, async (i) => {
      await pool.query('INSERT INTO bench_rows (id, amount) VALUES ($1, $2)', [`r${i}`, '1000000']);
    });
    let t0 = performance.now();
    for (let b = 0; b < BATCHED_POSTINGS; b += BATCH_SIZE) {
      const batch = Array.from({ length: Math.min(BATCH_SIZE, BATCHED_POSTINGS - b) }, (_, k) => posting(`bench:batch:${b + k}`, `mer_${(b + k) % 1000}`, BigInt(1 + ((b + k) % 997))));
      await withTx(pool, (c) => postEntries(c, batch));
    }
    const batched = BATCHED_POSTINGS / ((performance.now() - t0) / 1000);
    const hot = await callsPerSecond(HOT_POSTINGS, HOT_IN_FLIGHT, async (i) => {
      await withTx(pool, (c) => postEntries(c, [posting(`bench:hot:${i}`, 'mer_hot', 1_000_000n)]));
    });
    t0 = performance.now();
    const { rows } = await pool.query(`SELECT asset, sum(amount_minor)::text AS s, count(*)::int AS n FROM ledger_lines GROUP BY asset`);
    const sumMs = performance.now() - t0;
    if (rows.some((r) => r.s !== '0')) throw new Error('the ledger does not balance');
    await pool.end();
    console.log(`
## ledger (npm run bench -- ledger)

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; embedded PostgreSQL, fsync on.

| what | per second |
|---|---|
| raw single-row inserts, ${HOT_IN_FLIGHT} in flight (ceiling) | ${raw.toFixed(0)} |
| postings batched (${BATCH_SIZE} entries per transaction, ${BATCHED_POSTINGS} entries) | ${batched.toFixed(0)} |
| postings on one hot account (one entry per transaction, ${HOT_IN_FLIGHT} in flight, ${HOT_POSTINGS} entries) | ${hot.toFixed(0)} (${(hot / raw).toFixed(2)}× raw inserts) |

All ${rows[0]?.n ?? 0} lines sum to zero per asset (checked in ${sumMs.toFixed(0)} ms).
`);
    // The last line: the figures and their ratios to the raw-insert ceiling of this run.
    console.log(JSON.stringify({
      bench: 'ledger', raw_inserts_per_s: Math.round(raw), batched_entries_per_s: Math.round(batched), hot_account_entries_per_s: Math.round(hot),
      batched_ratio_to_raw: Number((batched / raw).toFixed(2)), hot_ratio_to_raw: Number((hot / raw).toFixed(2)), lines_balanced: true,
    }));
  } finally {
    await pg.stop();
  }
}
