// The ledger against the real PostgreSQL: balanced, immutable, idempotent postings; treasury
// gates that never drive a merchant liability negative; reversals that converge on the truth.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { withTx } from '../activities/db.js';
import { balances, postEntries, postingId, UnbalancedPostingError, type AccountRef, type Posting } from '../activities/ledger.js';
import { createTreasuryActivities, type CountedTransfer } from '../activities/treasury.js';
import { insertPayment } from '../activities/payment.js';
import { railById } from '../activities/config.js';
import { randomBase62 } from '../activities/ids.js';
import { ADMIN_TOKEN, api, h, newMerchant } from './harness.js';

const acct = (ownerId: string, purpose: AccountRef['purpose'], asset = 'USDT'): AccountRef => ({ ownerType: 'merchant', ownerId, environment: 'sandbox', purpose, asset });

async function globalSums(): Promise<Map<string, bigint>> {
  const { rows } = await h().stack.pool.query(`SELECT asset, sum(amount_minor)::text AS s FROM ledger_lines GROUP BY asset`);
  return new Map(rows.map((r) => [r.asset, BigInt(r.s)]));
}

async function newPaymentRow(merchantId: string, amountMinor = 100_000_000n) {
  return insertPayment(h().stack.pool, h().config, { merchantId, environment: 'sandbox', rail: railById(h().config, 'usdt-erc20')!, amountMinor, reference: `ord-${randomBase62(6)}`, metadata: {}, expiresInS: 600, actor: 'test' });
}

describe('ledger', () => {
  it('refuses an unbalanced posting in code and, if code is bypassed, in the database at commit', async () => {
    const m = 'mer_' + randomBase62(24);
    const bad: Posting = { cause: `test:${randomBase62(8)}`, environment: 'sandbox', gate: 'test', lines: [{ account: acct(m, 'pending'), amountMinor: 5n }, { account: acct(m, 'available'), amountMinor: -4n }] };
    await assert.rejects(withTx(h().stack.pool, (c) => postEntries(c, [bad])), UnbalancedPostingError);
    const id = postingId(bad.cause);
    await assert.rejects(
      withTx(h().stack.pool, async (c) => {
        await c.query(`INSERT INTO ledger_accounts (id, environment, owner_type, owner_id, purpose, asset) VALUES ('x:${m}', 'sandbox', 'merchant', $1, 'pending', 'USDT') ON CONFLICT DO NOTHING`, [m]);
        await c.query(`INSERT INTO ledger_entries (id, cause, environment, gate, effective_at) VALUES ($1, $2, 'sandbox', 'test', now())`, [id, bad.cause]);
        await c.query(`INSERT INTO ledger_lines (entry_id, line_no, account_id, asset, amount_minor, effective_at) VALUES ($1, 1, 'x:${m}', 'USDT', 5, now()), ($1, 2, 'x:${m}', 'USDT', -4, now())`, [id]);
      }),
      /does not balance/,
    );
    const { rows } = await h().stack.pool.query(`SELECT 1 FROM ledger_entries WHERE id = $1`, [id]);
    assert.equal(rows.length, 0);
  });

  it('keeps every entry balanced per asset and global debits equal to credits; replaying a cause changes nothing (property)', async function () {
    this.timeout(60_000);
    const line = fc.record({ purpose: fc.constantFrom('pending' as const, 'available' as const, 'custody' as const), asset: fc.constantFrom('USDT', 'USDC'), amount: fc.bigInt({ min: 1n, max: 10n ** 12n }) });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(line, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 }), fc.boolean(), async (entries, replay) => {
        const m = 'mer_' + randomBase62(24);
        // Each generated line gets its balancing counter-line in the same asset.
        const postings: Posting[] = entries.map((ls, i) => ({
          cause: `prop:${m}:${i}`,
          environment: 'sandbox',
          gate: 'test',
          lines: ls.flatMap((l) => [{ account: acct(m, l.purpose, l.asset), amountMinor: l.amount }, { account: acct(m, 'external', l.asset), amountMinor: -l.amount }]).slice(0, 16),
        }));
        const first = await withTx(h().stack.pool, (c) => postEntries(c, postings));
        assert.equal(first.inserted.length, postings.length);
        const before = await h().stack.pool.query(`SELECT count(*)::int AS n FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id WHERE e.cause LIKE $1`, [`prop:${m}:%`]);
        if (replay) {
          const again = await withTx(h().stack.pool, (c) => postEntries(c, postings));
          assert.equal(again.inserted.length, 0);
          assert.equal(again.skipped.length, postings.length);
        }
        const after = await h().stack.pool.query(`SELECT count(*)::int AS n FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id WHERE e.cause LIKE $1`, [`prop:${m}:%`]);
        assert.equal(after.rows[0].n, before.rows[0].n);
        const { rows } = await h().stack.pool.query(
          `SELECT l.entry_id, l.asset, sum(l.amount_minor)::text AS s FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id WHERE e.cause LIKE $1 GROUP BY 1, 2`,
          [`prop:${m}:%`],
        );
        for (const r of rows) assert.equal(r.s, '0');
        for (const [, s] of await globalSums()) assert.equal(s, 0n);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses to edit or delete a posting', async () => {
    const { rows } = await h().stack.pool.query(`SELECT entry_id FROM ledger_lines LIMIT 1`);
    await assert.rejects(h().stack.pool.query(`UPDATE ledger_lines SET amount_minor = 1 WHERE entry_id = $1`, [rows[0].entry_id]), /immutable/);
    await assert.rejects(h().stack.pool.query(`DELETE FROM ledger_entries WHERE id = $1`, [rows[0].entry_id]), /immutable/);
  });
});

describe('treasury recognition gates', () => {
  const treasury = () => createTreasuryActivities({ pool: h().stack.pool, config: h().config });

  it('after random confirmations, recognitions, retries and reorgs the ledger equals a re-derivation from the surviving transfers, and no merchant balance goes negative (property)', async function () {
    this.timeout(90_000);
    const op = fc.record({ t: fc.nat(5), kind: fc.constantFrom('confirm' as const, 'recognize' as const, 'reorg' as const) });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.bigInt({ min: 1n, max: 10n ** 9n }), { minLength: 1, maxLength: 6 }), fc.array(op, { minLength: 1, maxLength: 20 }), async (amounts, ops) => {
        const m = await newMerchant();
        const p = await newPaymentRow(m.merchantId);
        const base = amounts.map((a, i) => ({ txHash: `0x${i.toString(16).padStart(64, 'a')}`, logIndex: i, amountMinor: a.toString() }));
        // The model: per transfer, the furthest gate its current inclusion reached. A reorg removes
        // the inclusion; the same transaction may be mined again in another block (a new generation).
        const stage = base.map(() => 0); // 0 none, 1 pending, 2 available
        const generation = base.map(() => 0);
        const transfers = (): CountedTransfer[] => base.map((b, i) => ({ ...b, blockHash: `0x${generation[i]!.toString(16).padStart(64, 'c')}` }));
        let reorgs = 0;
        for (const o of ops) {
          const i = o.t % base.length;
          const t = transfers()[i]!;
          if (o.kind === 'confirm') {
            await treasury().postConfirmedToPending({ paymentId: p.id, transfers: [t] });
            await treasury().postConfirmedToPending({ paymentId: p.id, transfers: [t] }); // a retry
            stage[i] = Math.max(stage[i]!, 1);
          } else if (o.kind === 'recognize' && stage[i]! >= 1) {
            await treasury().postRecognizedToAvailable({ paymentId: p.id, transfers: [t] });
            stage[i] = 2;
          } else if (o.kind === 'reorg' && stage[i]! > 0) {
            await treasury().reverseTransferPostings({ paymentId: p.id, txHash: t.txHash, logIndex: t.logIndex, blockHash: t.blockHash, reorgId: `r${reorgs++}` });
            stage[i] = 0;
            generation[i]! += 1;
          }
          const b = await balances(h().stack.pool, { environment: 'sandbox', merchantId: m.merchantId });
          for (const row of b) assert.ok(row.balance_minor >= 0n, `${row.account} went negative`);
        }
        const expected = { pending: 0n, available: 0n };
        stage.forEach((s, i) => {
          if (s === 1) expected.pending += BigInt(base[i]!.amountMinor);
          if (s === 2) expected.available += BigInt(base[i]!.amountMinor);
        });
        const b = await balances(h().stack.pool, { environment: 'sandbox', merchantId: m.merchantId });
        const get = (purpose: string) => b.find((r) => r.purpose === purpose)?.balance_minor ?? 0n;
        assert.equal(get('pending'), expected.pending);
        assert.equal(get('available'), expected.available);
      }),
      { numRuns: 15 },
    );
  });

  it('serves balances and entries over the API, with as-of queries and CSV finance can open', async () => {
    const m = await newMerchant();
    const p = await newPaymentRow(m.merchantId, 125_500_000n);
    const t = { txHash: '0x' + 'b'.repeat(64), logIndex: 3, blockHash: '0x' + 'd'.repeat(64), amountMinor: '125500000' };
    await treasury().postConfirmedToPending({ paymentId: p.id, transfers: [t] });
    const between = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await treasury().postRecognizedToAvailable({ paymentId: p.id, transfers: [t] });
    const bal = await api('GET', '/v1/ledger/balances', { key: m.key });
    assert.equal(bal.status, 200, JSON.stringify(bal.body));
    const byPurpose = Object.fromEntries(bal.body.data.map((d: { purpose: string; balance: string }) => [d.purpose, d.balance]));
    assert.deepEqual(byPurpose, { available: '125.50', pending: '0.00' });
    const asOf = await api('GET', `/v1/ledger/balances?as_of=${between.toISOString()}`, { key: m.key });
    assert.deepEqual(Object.fromEntries(asOf.body.data.map((d: { purpose: string; balance: string }) => [d.purpose, d.balance])), { available: '0.00', pending: '125.50' });
    const entries = await api('GET', '/v1/ledger/entries', { key: m.key });
    assert.equal(entries.body.data.length, 2);
    assert.deepEqual(entries.body.data.map((e: { gate: string }) => e.gate), ['confirmed', 'recognized']);
    assert.equal(entries.body.data[0].reference, p.reference);
    const csv = await api('GET', '/v1/ledger/entries?format=csv', { key: m.key });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /text\/csv/);
    const lines = (csv.body as string).trim().split('\r\n');
    assert.equal(lines[0], 'time_utc,entry_id,line,account,purpose,asset,amount,amount_minor,fee_amount,fee_asset,gate,payment_id,payout_id,merchant_reference,tx_hash,log_index,rail,reverses_entry_id,memo');
    assert.equal(lines.length, 5);
    assert.ok(lines.some((l) => l.includes(p.id) && l.includes(t.txHash) && l.includes('125.50')));
    const bcsv = await api('GET', '/v1/ledger/balances?format=csv', { key: m.key });
    assert.match(bcsv.body, /^account,owner_type,owner_id,purpose,asset,balance,balance_minor,as_of_utc\r\n/);
    // Another merchant sees none of it.
    const other = await newMerchant();
    assert.equal((await api('GET', '/v1/ledger/entries', { key: other.key })).body.data.length, 0);
    const platform = await api('GET', '/v1/admin/ledger/balances?environment=sandbox', { key: ADMIN_TOKEN });
    assert.ok(platform.body.data.some((d: { purpose: string; owner_id: string }) => d.purpose === 'custody' && d.owner_id === 'usdt-erc20'));
  });
});
