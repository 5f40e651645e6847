// `npm run bench -- evidence`: evidence appends per second on the real embedded PostgreSQL
// (fsync on). Every recording transaction (a payment's transition, a payout's, an operator's
// decision) ends with one append, and appends serialize on the chain's lock, held from the
// head read to the commit; so the figure that matters is a transaction that writes a row and
// appends, several in flight, beside the same transaction without the append (the ceiling)
// measured in the same run.
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { createPool, withTx } from '../../activities/db.js';
import { appendEvidence, verifyEvidence } from '../../activities/evidence.js';
import { migrate } from '../../prisma/migrate.js';
import { startEmbeddedPostgres } from '../embedded/postgres.js';
import { freePort } from '../embedded/temporal.js';
import { callsPerSecond } from './closed-loop.js';

const TRANSACTIONS = Number(process.env.BENCH_EVIDENCE ?? 3_000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 16);

export async function main(_argv: string[]): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'stablerail-bench-evidence-'));
  chmodSync(root, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: join(root, 'pg'), port: await freePort() });
  try {
    await migrate(pg.url);
    const pool = createPool(pg.url, IN_FLIGHT + 2);
    await pool.query('CREATE TABLE bench_rows (id text PRIMARY KEY, amount numeric(78,0) NOT NULL)');
    const write = (c: { query: (text: string, values: unknown[]) => Promise<unknown> }, id: string) =>
      c.query('INSERT INTO bench_rows (id, amount) VALUES ($1, $2)', [id, '1000000']);
    // Warm both paths (prepared statements, the pool's connections) before measuring.
    await callsPerSecond(IN_FLIGHT * 4, IN_FLIGHT, (i) => withTx(pool, async (c) => {
      await write(c, `warm${i}`);
      await appendEvidence(c, { kind: 'bench.warm', subject: `warm${i}`, actor: 'bench', payload: { i }, dedupeKey: `bench:warm:${i}` });
    }));
    const ceiling = await callsPerSecond(TRANSACTIONS, IN_FLIGHT, (i) => withTx(pool, async (c) => {
      await write(c, `raw${i}`);
    }));
    const appends = await callsPerSecond(TRANSACTIONS, IN_FLIGHT, (i) => withTx(pool, async (c) => {
      await write(c, `ev${i}`);
      await appendEvidence(c, { kind: 'bench.append', subject: `ev${i}`, actor: 'bench', payload: { i, amount_minor: '1000000' }, dedupeKey: `bench:append:${i}` });
    }));
    // Every append must have linked to the one before it, in flight or not.
    const verified = await verifyEvidence(pool);
    if (!verified.ok || verified.checked !== TRANSACTIONS + IN_FLIGHT * 4) throw new Error(`the evidence chain does not verify: ${JSON.stringify(verified)}`);
    await pool.end();
    console.log(`
## evidence (npm run bench -- evidence)

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; embedded PostgreSQL, fsync on.

| what, ${IN_FLIGHT} in flight, ${TRANSACTIONS} transactions each | per second |
|---|---|
| a transaction writing one row (ceiling) | ${ceiling.toFixed(0)} |
| the same transaction appending an evidence entry | ${appends.toFixed(0)} (${(appends / ceiling).toFixed(2)}× the ceiling) |

The chain verifies: ${verified.checked} entries, each linked to the one before it.
`);
    // The last line: the figures and their ratio to this run's ceiling.
    console.log(JSON.stringify({
      bench: 'evidence', in_flight: IN_FLIGHT, tx_per_s: Math.round(ceiling), appends_per_s: Math.round(appends),
      ratio: Number((appends / ceiling).toFixed(2)), chain_verified: true,
    }));
  } finally {
    await pg.stop();
  }
}
