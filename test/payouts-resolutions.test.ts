// Every resolution is posted when it is decided (issue #16): a write-off moves the payment's
// money to the platform's write_offs account naming the operator and the reason; a platform
// fee from the merchant's schedule is posted at recognition to the platform's fees account.
import assert from 'node:assert/strict';
import { api, asOperator, eventually, h, newMerchant } from './harness.js';
import { mine, pay, watcherCaughtUp } from './chain-helpers.js';
import type { PlatformFeeRule } from '../activities/config.js';

type M = { merchantId: string; key: string };

async function paymentFor(m: M, amount: string, reference: string) {
  const r = await api('POST', '/v1/payments', { key: m.key, body: { amount, rail: 'usdt-erc20', reference } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { id: string; deposit_address: string };
}

async function statusOf(m: M, id: string, status: string, timeoutMs = 30_000) {
  return eventually(async () => {
    const p = (await api('GET', `/v1/payments/${id}`, { key: m.key })).body;
    return p.status === status ? p : null;
  }, timeoutMs, 100);
}

/** Sum of one platform account's lines from this payment's entries (credit-normal: negated). */
async function platformPosted(paymentId: string, purpose: string): Promise<bigint> {
  const { rows } = await h().stack.pool.query(
    `SELECT COALESCE(-sum(l.amount_minor), 0)::text AS s FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id JOIN ledger_accounts a ON a.id = l.account_id
      WHERE e.payment_id = $1 AND a.owner_type = 'platform' AND a.purpose = $2`,
    [paymentId, purpose],
  );
  return BigInt(rows[0].s);
}

describe('resolution postings', function () {
  this.timeout(120_000);

  it('write_off posts the received money to write_offs when decided, with the operator and the reason; the merchant keeps nothing of it', async () => {
    const m = await newMerchant({ name: 'Write-off merchant' });
    const p = await paymentFor(m, '10.00', `wo-${Date.now()}`);
    await pay(p.deposit_address, 14_000_000n);
    await mine(3);
    const review = await statusOf(m, p.id, 'requires_review');
    assert.equal(review.exception.code, 'overpaid');
    const decided = await asOperator('ops-carol')('POST', `/v1/admin/payments/${p.id}/resolve`, { decision: 'write_off', reason: 'payer unreachable for 90 days' });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    assert.equal(decided.body.status, 'written_off');
    assert.equal(await platformPosted(p.id, 'write_offs'), 14_000_000n);
    const { rows } = await h().stack.pool.query(`SELECT memo, gate FROM ledger_entries WHERE cause = $1`, [`payment:${p.id}/write_off`]);
    assert.equal(rows.length, 1);
    assert.match(rows[0].memo, /written off by op_[0-9A-Za-z]+@otk_.*: payer unreachable for 90 days/);
    // Nothing of it stays on the merchant's balances.
    const b = await api('GET', '/v1/ledger/balances', { key: m.key });
    for (const row of b.body.data as Array<{ purpose: string; balance_minor: string }>) {
      if (row.purpose === 'pending' || row.purpose === 'available') assert.equal(row.balance_minor, '0', row.purpose);
    }
  });

  it('a merchant\'s platform fee schedule (percent and fixed) is posted at recognition from available to the platform\'s fees account', async () => {
    const m = await newMerchant({ name: 'Fee merchant' });
    const config = h().config;
    // The running stack reads this config object: the schedule applies to this merchant only.
    const rule: PlatformFeeRule = { merchant_id: m.merchantId, rail: 'usdt-erc20', percent: '1.5', fixed: '0.10' };
    config.platform_fees = [rule, ...(config.platform_fees ?? [])];
    try {
      await api('POST', '/v1/orders', { key: m.key, body: { reference: 'fee-1', amount: '40.00', asset: 'USDT' } });
      const p = await paymentFor(m, '40.00', 'fee-1');
      await pay(p.deposit_address, 40_000_000n);
      await mine(6);
      await watcherCaughtUp();
      await statusOf(m, p.id, 'confirmed');
      const started = await api('POST', '/v1/reconciliation/runs', { key: m.key, body: { grace_s: 0 } });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      await statusOf(m, p.id, 'recognized');
      // 1.5% of 40.00 is 0.60, plus 0.10 fixed.
      const fee = 700_000n;
      await eventually(async () => (await platformPosted(p.id, 'fees')) === fee, 15_000, 100);
      const b = await api('GET', '/v1/ledger/balances', { key: m.key });
      const available = (b.body.data as Array<{ purpose: string; balance_minor: string }>).find((x) => x.purpose === 'available');
      assert.equal(available?.balance_minor, (40_000_000n - fee).toString());
      const { rows } = await h().stack.pool.query(`SELECT count(*)::int AS n FROM ledger_entries WHERE payment_id = $1 AND gate = 'platform_fee'`, [p.id]);
      assert.equal(rows[0].n, 1);
    } finally {
      config.platform_fees = config.platform_fees.filter((r) => r !== rule);
    }
  });
});
