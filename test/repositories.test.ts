// The repository layer against the real PostgreSQL: Prisma Client reads of merchants and keys,
// TypedSQL reads of the ledger (typed values, as-of and keyset paging), raw postings under them.
import assert from 'node:assert/strict';
import { prismaOf, withTx } from '../activities/db.js';
import { postEntries, type AccountRef } from '../activities/ledger.js';
import { keyHash, revokeApiKey } from '../activities/merchant.js';
import { randomBase62 } from '../activities/ids.js';
import { accountBalances, entryLines } from '../activities/repositories/ledger.js';
import { findActiveKeyByHash, findMerchant, railEnabled, railEnablements } from '../activities/repositories/merchants.js';
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
});
