// `npm run bench -- recon [--payments N]`: a reconciliation of N generated payments (default
// 1,000,000) across the three planes (orders, payments with their chain transfers, ledger
// postings) on the real embedded PostgreSQL, with a known number of injected faults that the
// run must find. The data is loaded in bulk with SQL; the run itself is the product's code.
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { createPool } from '../../activities/db.js';
import { parseConfig } from '../../activities/config.js';
import { createReconciliationActivities } from '../../activities/reconciliation.js';
import { BREAK_CLASSES_IN_ORDER } from '../../workflows/shared.js';
import { migrate } from '../../prisma/migrate.js';
import { startEmbeddedPostgres } from '../embedded/postgres.js';
import { freePort } from '../embedded/temporal.js';
import { devnetRails } from '../devnet-rails.js';

const FAULTS_PER_CLASS = 100;

export async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf('--payments');
  const n = i >= 0 ? Number(argv[i + 1]) : 1_000_000;
  const root = mkdtempSync(join(tmpdir(), 'stablerail-bench-recon-'));
  chmodSync(root, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: join(root, 'pg'), port: await freePort(), fsync: false });
  try {
    await migrate(pg.url);
    const pool = createPool(pg.url, 4);
    const config = parseConfig({ rails: devnetRails({ mnemonic: 'test test test test test test test test test test test junk', evmRpcUrl: 'http://127.0.0.1:1', tronRpcUrl: 'http://127.0.0.1:2' }) }, { base_url: 'http://127.0.0.1' });
    const t0 = performance.now();
    process.stderr.write(`loading ${n} payments, orders, transfers and postings…\n`);
    // Bulk load only: the balance trigger checks each row at commit; the generated entries balance by construction.
    await pool.query(`ALTER TABLE ledger_lines DISABLE TRIGGER ledger_lines_balanced`);
    await pool.query(`INSERT INTO merchants (id, name) SELECT 'mer_bench' || m, 'bench' FROM generate_series(0, 99) m`);
    await pool.query(
      `INSERT INTO payments (id, public_id, merchant_id, environment, rail, asset, amount_minor, amount_received_minor, status, deposit_address, address_index, reference, expires_at, created_at, updated_at, last_seq)
       SELECT 'pay_' || g, 'pub_' || g, 'mer_bench' || (g % 100), 'sandbox', 'usdt-erc20', 'USDT', 1000000 + g % 1000, 1000000 + g % 1000,
              CASE WHEN g % 2 = 0 THEN 'recognized' ELSE 'confirmed' END, '0xaddr' || g, g, 'ref-' || g, now(), now() - interval '1 hour', now() - interval '1 hour', 3
         FROM generate_series(1, $1) g`, [n]);
    await pool.query(
      `INSERT INTO orders (id, merchant_id, environment, reference, amount_minor, asset, status, updated_at)
       SELECT 'ord_' || g, 'mer_bench' || (g % 100), 'sandbox', 'ref-' || g,
              1000000 + g % 1000 + CASE WHEN g <= $2 THEN 1 ELSE 0 END, 'USDT', 'fulfilled', now() - interval '1 hour'
         FROM generate_series($2 + 1 - $2, $1) g WHERE g > $2 OR g <= $2`, [n, FAULTS_PER_CLASS]);
    // Faults: amount_mismatch (orders 1..F are 1 minor unit off); payment_without_order (orders deleted for F payments);
    // order_without_payment (F fulfilled orders with no payment).
    await pool.query(`DELETE FROM orders WHERE reference IN (SELECT 'ref-' || g FROM generate_series($1 + 1, $1 * 2) g)`, [FAULTS_PER_CLASS]);
    await pool.query(`INSERT INTO orders (id, merchant_id, environment, reference, amount_minor, asset, status, updated_at)
       SELECT 'ord_x' || g, 'mer_bench' || (g % 100), 'sandbox', 'unpaid-' || g, 5000000, 'USDT', 'fulfilled', now() - interval '1 hour' FROM generate_series(1, $1) g`, [FAULTS_PER_CLASS]);
    await pool.query(
      `INSERT INTO chain_transfers (rail, tx_hash, log_index, block_height, block_hash, from_address, to_address, amount_minor, payment_id, created_at, updated_at)
       SELECT 'usdt-erc20', '0x' || lpad(to_hex(g), 64, '0'), 0, g / 10, '0xb' || g / 10, '0xpayer', '0xaddr' || g, 1000000 + g % 1000, 'pay_' || g, now() - interval '1 hour', now() - interval '1 hour'
         FROM generate_series(1, $1) g`, [n]);
    // Faults: transfer_without_payment (F unclaimed transfers).
    await pool.query(
      `INSERT INTO chain_transfers (rail, tx_hash, log_index, block_height, block_hash, from_address, to_address, amount_minor, payment_id, created_at, updated_at)
       SELECT 'usdt-erc20', '0xu' || g, 0, 1, '0xb', '0xpayer', '0xunknown', 777, NULL, now() - interval '1 hour', now() - interval '1 hour' FROM generate_series(1, $1) g`, [FAULTS_PER_CLASS]);
    await pool.query(`INSERT INTO ledger_accounts (id, environment, owner_type, owner_id, purpose, asset)
       SELECT 'merchant:mer_bench' || m || ':sandbox:' || p || ':USDT', 'sandbox', 'merchant', 'mer_bench' || m, p, 'USDT' FROM generate_series(0, 99) m, unnest(ARRAY['pending', 'available']) p
       UNION ALL SELECT 'rail:usdt-erc20:sandbox:custody:USDT', 'sandbox', 'rail', 'usdt-erc20', 'custody', 'USDT'`);
    // Confirmed postings for every payment but F (confirmed_without_posting), recognized ones for recognized payments but F.
    for (const gate of ['confirmed', 'recognized']) {
      await pool.query(
        `INSERT INTO ledger_entries (id, cause, environment, merchant_id, payment_id, rail, tx_hash, log_index, gate, effective_at)
         SELECT 'pst_' || $2 || g, $2 || ':' || g, 'sandbox', 'mer_bench' || (g % 100), 'pay_' || g, 'usdt-erc20', '0x' || lpad(to_hex(g), 64, '0'), 0, $2, now() - interval '1 hour'
           FROM generate_series(1, $1) g WHERE g > $3 * 3 AND ($2 = 'confirmed' OR g % 2 = 0)`, [n, gate, FAULTS_PER_CLASS]);
      await pool.query(
        `INSERT INTO ledger_lines (entry_id, line_no, account_id, asset, amount_minor, effective_at)
         SELECT e.id, l.no, CASE WHEN l.no = 1 THEN CASE WHEN $1 = 'confirmed' THEN 'rail:usdt-erc20:sandbox:custody:USDT' ELSE 'merchant:' || e.merchant_id || ':sandbox:pending:USDT' END
                                ELSE 'merchant:' || e.merchant_id || ':sandbox:' || CASE WHEN $1 = 'confirmed' THEN 'pending' ELSE 'available' END || ':USDT' END,
                'USDT', CASE WHEN l.no = 1 THEN 1 ELSE -1 END * (1000000 + substr(e.payment_id, 5)::bigint % 1000), e.effective_at
           FROM ledger_entries e CROSS JOIN (VALUES (1), (2)) AS l(no) WHERE e.gate = $1`, [gate]);
    }
    await pool.query(`ALTER TABLE ledger_lines ENABLE TRIGGER ledger_lines_balanced`);
    await pool.query('ANALYZE');
    const loadS = (performance.now() - t0) / 1000;
    const acts = createReconciliationActivities({ pool, config });
    const scope = { runId: 'rec_bench', environment: 'sandbox' as const, merchantId: null, graceS: 0 };
    const t1 = performance.now();
    await acts.beginRun({ ...scope, trigger: 'bench', requestedBy: 'bench' });
    const perClass: string[] = [];
    for (let k = 0; k < BREAK_CLASSES_IN_ORDER.length; k++) {
      const c0 = performance.now();
      const found = await acts.detectBreaks({ ...scope, breakClass: BREAK_CLASSES_IN_ORDER[k]!, index: k });
      perClass.push(`| ${BREAK_CLASSES_IN_ORDER[k]} | ${found} | ${((performance.now() - c0) / 1000).toFixed(2)} |`);
      process.stderr.write(`  ${BREAK_CLASSES_IN_ORDER[k]}: ${found}\n`);
    }
    const { summary } = await acts.finishRun(scope);
    const runS = (performance.now() - t1) / 1000;
    // The ceiling: one read of every table the classes match across, with nothing matched. A
    // run can hardly beat reading its inputs once; the ratio says how far above that it is.
    const s0 = performance.now();
    for (const table of ['orders', 'payments', 'chain_transfers', 'ledger_entries', 'ledger_lines', 'payouts', 'treasury_transfers']) await pool.query(`SELECT count(*) FROM ${table}`);
    const scanS = (performance.now() - s0) / 1000;
    await pool.end();
    console.log(`
## reconciliation (npm run bench -- recon --payments ${n})

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; embedded PostgreSQL. Loaded in ${loadS.toFixed(0)} s:
${n} payments with their orders, chain transfers and postings, and injected faults: ${FAULTS_PER_CLASS} each of amount_mismatch, payment_without_order, order_without_payment and transfer_without_payment; the first ${FAULTS_PER_CLASS * 3} payments have no postings (${FAULTS_PER_CLASS * 3} confirmed_without_posting, ${FAULTS_PER_CLASS * 3 / 2} of them recognized: recognized_without_posting).

Run time: **${runS.toFixed(1)} s** (target 20 s). Open breaks: ${summary.open_breaks}.

| class | breaks found | seconds |
|---|---|---|
${perClass.join('\n')}
`);
    const expected = FAULTS_PER_CLASS * 4 + FAULTS_PER_CLASS * 3 + (FAULTS_PER_CLASS * 3) / 2;
    console.log(JSON.stringify({
      bench: 'recon', payments: n, run_s: Number(runS.toFixed(2)), scan_ceiling_s: Number(scanS.toFixed(2)), ratio_to_scan: Number((runS / scanS).toFixed(1)),
      target_s: 20, open_breaks: summary.open_breaks, expected_breaks: expected, breaks_by_class: summary.breaks,
    }));
  } finally {
    await pg.stop();
  }
}
