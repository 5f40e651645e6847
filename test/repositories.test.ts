// The repository layer against the real PostgreSQL: Prisma Client reads of merchants and keys,
// TypedSQL reads of the ledger (typed values, as-of and keyset paging), raw postings under them,
// and reconciliation's TypedSQL: a break class upserted by fingerprint, a run's totals and end.
import assert from 'node:assert/strict';
import { prismaOf, typedRows, withPrismaTx, withTx } from '../activities/db.js';
import { appendEvidence, verifyEvidence } from '../activities/evidence.js';
import { evidenceLockHead } from '../activities/repositories/sql/evidenceLockHead.js';
import { postEntries, type AccountRef } from '../activities/ledger.js';
import { keyHash, revokeApiKey } from '../activities/merchant.js';
import { randomBase62 } from '../activities/ids.js';
import { accountBalances, entryLines } from '../activities/repositories/ledger.js';
import { findActiveKeyByHash, findMerchant, railEnabled, railEnablements } from '../activities/repositories/merchants.js';
import { completeRun, detectClass, findRun, insertRun, breaksFoundByRun } from '../activities/repositories/reconciliation.js';
import { resolveBreak, runObject } from '../activities/reconciliation.js';
import { findPayment, findPaymentByPublicId, pageCursor, paymentsPage } from '../activities/repositories/payments.js';
import { h, newMerchant } from './harness.js';

const acct = (ownerId: string, purpose: AccountRef['purpose']): AccountRef => ({ ownerType: 'merchant', ownerId, environment: 'sandbox', purpose, asset: 'USDT' });

describe('repositories', () => {
  it('one Prisma Client per pool, over that pool', () => {
    const pool = h().stack.pool;
    assert.equal(prismaOf(pool), prismaOf(pool));
  });

  it('merchants and keys are read through Prisma Client; a revoked key is not found', async () => {
    const m = await newMerchant({ name: 'Repo merchant' });
    const pool = h().stack.pool;
    const merchant = await findMerchant(pool, m.merchantId);
    assert.equal(merchant?.name, 'Repo merchant');
    assert.ok(merchant?.createdAt instanceof Date);
    const key = await findActiveKeyByHash(pool, keyHash(m.key));
    assert.deepEqual({ id: key?.id, merchantId: key?.merchantId, environment: key?.environment }, { id: m.keyId, merchantId: m.merchantId, environment: 'sandbox' });
    assert.ok(key?.scopes.includes('ledger:read'));
    const rails = await railEnablements(pool, m.merchantId);
    assert.ok(rails.length > 0 && rails.every((r) => r.environment === 'sandbox'));
    assert.equal(await railEnabled(pool, m.merchantId, 'sandbox', rails[0]!.railId), true);
    assert.equal(await railEnabled(pool, m.merchantId, 'live', rails[0]!.railId), false);
    await revokeApiKey(pool, m.keyId, 'test');
    assert.equal(await findActiveKeyByHash(pool, keyHash(m.key)), null);
  });

  it('TypedSQL ledger reads: balances as of a time, entry lines typed and keyset-paged', async () => {
    const m = 'mer_' + randomBase62(24);
    const pool = h().stack.pool;
    const t0 = new Date(Date.now() - 60_000);
    const t1 = new Date(Date.now() - 30_000);
    await withTx(pool, (c) =>
      postEntries(c, [
        { cause: `repo:${m}:1`, environment: 'sandbox', merchantId: m, gate: 'test', effectiveAt: t0, lines: [{ account: acct(m, 'custody'), amountMinor: 700n }, { account: acct(m, 'available'), amountMinor: -700n }] },
        { cause: `repo:${m}:2`, environment: 'sandbox', merchantId: m, gate: 'test', effectiveAt: t1, txHash: '0xabc', logIndex: 3, lines: [{ account: acct(m, 'custody'), amountMinor: 50n }, { account: acct(m, 'available'), amountMinor: -50n }] },
      ]),
    );
    const now = await accountBalances(pool, { environment: 'sandbox', merchantId: m });
    assert.deepEqual(now.map((r) => [r.purpose, r.debit_balance]), [['available', '-750'], ['custody', '750']]);
    const before = await accountBalances(pool, { environment: 'sandbox', merchantId: m, asOf: new Date(t0.getTime() + 1000) });
    assert.deepEqual(before.map((r) => r.debit_balance), ['-700', '700']);

    const page1 = await entryLines(pool, { environment: 'sandbox', merchantId: m, lineLimit: 2 });
    assert.equal(page1.length, 2);
    assert.ok(page1[0]!.effective_at instanceof Date);
    assert.equal(page1[0]!.effective_at.getTime(), t0.getTime());
    assert.deepEqual(page1.map((l) => [l.line_no, l.amount_minor]), [[1, '700'], [2, '-700']]);
    const page2 = await entryLines(pool, { environment: 'sandbox', merchantId: m, afterEntryId: page1[0]!.entry_id, lineLimit: 100 });
    assert.equal(page2.length, 2);
    assert.equal(page2[0]!.log_index, 3);
    assert.equal(page2[0]!.tx_hash, '0xabc');
    assert.equal(page2[0]!.reference, null);
  });

  it('TypedSQL reconciliation: a class upserts its breaks by fingerprint, a later run clears what went away, a resolved break stays resolved', async () => {
    const { stack: { pool }, config } = h();
    const m = 'mer_' + randomBase62(24);
    const prisma = prismaOf(pool);
    await prisma.order.createMany({ data: ['A', 'B'].map((ref, i) => ({ id: 'ord_' + randomBase62(24), merchantId: m, environment: 'sandbox', reference: `${m}-${ref}`, amountMinor: String(1_500_000 * (i + 1)), asset: 'USDT', status: 'open' })) });
    const rails = config.rails.filter((r) => r.environments.includes('sandbox'));
    const run = async (): Promise<{ runId: string; breaks: number }> => {
      const scope = { runId: 'rec_' + randomBase62(24), environment: 'sandbox', merchantId: m, graceS: 0 };
      await insertRun(pool, { ...scope, trigger: 'test', requestedBy: 'test', progress: { classes_done: 0 } });
      await insertRun(pool, { ...scope, trigger: 'test', requestedBy: 'test', progress: { classes_done: 0 } }); // the workflow's second write is a no-op
      const breaks = await detectClass(pool, scope, 'order_without_payment', rails, { classes_done: 1 });
      assert.equal(await detectClass(pool, scope, 'amount_mismatch', rails, { classes_done: 2 }), 0);
      const { summary, matchedIds } = await completeRun(pool, scope, 10, (totals, matched) => ({ totals: totals.map((t) => [t.class, t.asset, t.breaks, t.drift_minor]), matched }));
      assert.deepEqual(matchedIds, []);
      assert.deepEqual(summary.totals, breaks ? [['order_without_payment', 'USDT', breaks, String(breaks === 2 ? -4_500_000 : -1_500_000)]] : []);
      return { runId: scope.runId, breaks };
    };

    const first = await run();
    assert.equal(first.breaks, 2);
    const row = await findRun(pool, first.runId, m);
    assert.equal(row?.status, 'completed');
    assert.ok(row?.finished_at instanceof Date && row.finished_at >= row.started_at);
    assert.deepEqual(runObject(config, row!).progress, { classes_done: 2 });
    assert.equal(await findRun(pool, first.runId, 'mer_' + randomBase62(24)), undefined, 'another merchant does not see the run');
    const breaks = await breaksFoundByRun(pool, first.runId);
    assert.deepEqual(breaks.map((b) => [b.order_reference, b.expected_minor, b.actual_minor, b.drift_minor]), [[`${m}-A`, '1500000', '0', '-1500000'], [`${m}-B`, '3000000', '0', '-3000000']]);

    // B is canceled: the next run clears its break and keeps A's under the same id.
    await prisma.order.updateMany({ where: { merchantId: m, reference: `${m}-B` }, data: { status: 'canceled' } });
    const second = await run();
    assert.equal(second.breaks, 1);
    const [a] = await breaksFoundByRun(pool, second.runId);
    assert.equal(a?.id, breaks[0]!.id);
    assert.equal((await prisma.reconciliationBreak.findUnique({ where: { id: breaks[1]!.id } }))?.status, 'cleared');
    // The first run's report is still what it found: both breaks with the amounts it saw, B now cleared.
    const firstAgain = await breaksFoundByRun(pool, first.runId);
    assert.deepEqual(firstAgain.map((b) => [b.id, b.drift_minor, b.status]), [[breaks[0]!.id, '-1500000', 'open'], [breaks[1]!.id, '-3000000', 'cleared']]);
    assert.equal(firstAgain[0]!.last_run_id, second.runId);

    // A is resolved by an operator: it is never reopened, and nothing is open any more.
    const resolved = await resolveBreak(pool, a!.id, 'op_test', 'accepted', 'test');
    assert.deepEqual([resolved?.status, resolved?.resolved_by, resolved?.resolution, resolved?.expected_minor], ['resolved', 'op_test', 'accepted', '1500000']);
    // A second decision finds no open break and records nothing.
    assert.equal(await resolveBreak(pool, a!.id, 'op_other', 'written_off', 'again'), undefined);
    const { rows: ev } = await pool.query(`SELECT actor, payload->>'resolution' AS resolution FROM evidence WHERE dedupe_key = $1`, [`break:${a!.id}:resolved`]);
    assert.deepEqual(ev, [{ actor: 'op_test', resolution: 'accepted' }]);
    const third = await run();
    assert.equal(third.breaks, 0);
    assert.deepEqual((await breaksFoundByRun(pool, second.runId)).map((b) => [b.id, b.status]), [[a!.id, 'resolved']], 'a run keeps what it found after the break is resolved');
    assert.deepEqual(await breaksFoundByRun(pool, third.runId), []);
    assert.equal((await prisma.reconciliationBreak.findUnique({ where: { id: a!.id } }))?.status, 'resolved');
  });

  it('payment views through Prisma Client: every digit of an amount, keyset pages newest first, a cursor only in its scope', async () => {
    const pool = h().stack.pool;
    const m = 'mer_' + randomBase62(24);
    const t = Date.now() - 10_000;
    const ids = [0, 1, 2].map(() => 'pay_' + randomBase62(24));
    await prismaOf(pool).payment.createMany({
      data: ids.map((id, i) => ({
        id, publicId: 'pub_' + randomBase62(24), merchantId: m, environment: 'sandbox', rail: 'usdt-erc20', asset: 'USDT',
        amountMinor: i === 0 ? '123456789012345678901234567890' : String(1_000_000 + i), status: i === 2 ? 'canceled' : 'expired',
        depositAddress: `0x${randomBase62(20)}`, addressIndex: BigInt(2 ** 53) + BigInt(i), reference: `${m}-${i}`, metadata: { order: String(i) },
        expiresAt: new Date(t + 3_600_000), createdAt: new Date(t + i * 1000),
      })),
    });
    const first = await findPayment(pool, ids[0]!);
    assert.equal(first?.amount_minor, '123456789012345678901234567890');
    assert.equal(first?.amount_received_minor, '0');
    assert.equal(first?.address_index, '9007199254740992');
    assert.deepEqual(first?.metadata, { order: '0' });
    assert.equal((await findPaymentByPublicId(pool, first!.public_id))?.id, ids[0]);
    assert.equal(await findPayment(pool, 'not-an-id'), undefined);

    const scope = { merchantId: m, environment: 'sandbox' };
    const page1 = await paymentsPage(pool, scope, null, 2);
    assert.deepEqual(page1.map((r) => r.id), [ids[2], ids[1]]);
    const cursor = await pageCursor(pool, page1[1]!.id, scope);
    assert.deepEqual((await paymentsPage(pool, scope, cursor, 2)).map((r) => r.id), [ids[0]]);
    assert.deepEqual((await paymentsPage(pool, { ...scope, status: 'canceled' }, null, 10)).map((r) => r.id), [ids[2]]);
    assert.deepEqual((await paymentsPage(pool, { ...scope, reference: `${m}-1` }, null, 10)).map((r) => r.id), [ids[1]]);
    assert.equal(await pageCursor(pool, ids[0]!, { merchantId: 'mer_' + randomBase62(24), environment: 'sandbox' }), null, "another merchant's payment is no cursor");
  });

  it('typedRows runs one TypedSQL query alike on a pg transaction and a Prisma one; an evidence entry appended in either commits or vanishes with its transaction', async () => {
    const pool = h().stack.pool;
    const key = `typed-rows:${randomBase62(12)}`;
    const entry = { kind: 'test.typed_rows', subject: key, actor: 'test', payload: { n: 1, at: new Date(0) }, dedupeKey: key };
    // Rolled back in both kinds of transaction: nothing is left.
    await assert.rejects(withTx(pool, async (c) => { await appendEvidence(c, entry); throw new Error('roll back'); }), /roll back/);
    await assert.rejects(withPrismaTx(pool, async (tx) => { await appendEvidence(tx, entry); throw new Error('roll back'); }), /roll back/);
    assert.equal((await pool.query(`SELECT count(*)::int AS n FROM evidence WHERE dedupe_key = $1`, [key])).rows[0].n, 0);
    // Committed through Prisma; the same head read over pg and over Prisma answers the same row.
    const appended = await withPrismaTx(pool, (tx) => appendEvidence(tx, entry));
    assert.equal(appended.inserted, true);
    const overPg = await withTx(pool, (c) => typedRows(c, evidenceLockHead(1, key)));
    const overPrisma = await withPrismaTx(pool, (tx) => typedRows(tx, evidenceLockHead(1, key)));
    assert.deepEqual(overPg.find((r) => r.dup), { seq: appended.seq, hash: appended.hash, dup: true });
    assert.deepEqual(overPrisma.find((r) => r.dup), overPg.find((r) => r.dup));
    // A retry over pg finds the entry instead of adding one, and the chain still verifies.
    assert.equal((await withTx(pool, (c) => appendEvidence(c, entry))).inserted, false);
    assert.equal((await verifyEvidence(pool)).ok, true);
  });
});
