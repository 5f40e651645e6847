// The operators' queues and run list page with a cursor (limit, starting_after), like every
// other list: walking the pages meets each item once, newest first, and has_more ends the walk.
import assert from 'node:assert/strict';
import { admin, api, eventually, h, newMerchant } from './harness.js';
import { createPaymentActivities } from '../activities/payment.js';

type Item = { id: string; created_at?: string; started_at?: string };

/** Every page of a list at `limit`, following starting_after until has_more is false. */
async function walk(path: string, limit: number, stopWhen: (seen: Item[]) => boolean = () => false): Promise<Item[][]> {
  const pages: Item[][] = [];
  let after: string | null = null;
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await admin('GET', `${path}${sep}limit=${limit}${after ? `&starting_after=${after}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.data.length <= limit);
    pages.push(r.body.data);
    if (!r.body.has_more || stopWhen(pages.flat())) return pages;
    assert.equal(r.body.data.length, limit, 'a page short of the limit is the last one');
    after = r.body.data.at(-1).id;
  }
}

function assertNewestFirst(items: Item[], at: 'created_at' | 'started_at'): void {
  assert.equal(new Set(items.map((i) => i.id)).size, items.length, 'no item on two pages');
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [Date.parse(items[i - 1]![at]!), Date.parse(items[i]![at]!)];
    assert.ok(a > b || (a === b && items[i - 1]!.id > items[i]!.id), `${items[i - 1]!.id} before ${items[i]!.id}`);
  }
}

async function completedRun(key: string): Promise<string> {
  const started = await api('POST', '/v1/reconciliation/runs', { key, body: { grace_s: 0 } });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  await eventually(async () => (await api('GET', `/v1/reconciliation/runs/${started.body.id}`, { key })).body.status === 'completed', 30_000, 200);
  return started.body.id;
}

describe('operator lists page with a cursor: runs, reconciliation breaks, chain exceptions', () => {
  it('runs: limit and starting_after walk every run once, newest first; a cursor naming no run is cursor_invalid', async function () {
    this.timeout(60_000);
    const m = await newMerchant();
    const mine = [await completedRun(m.key), await completedRun(m.key), await completedRun(m.key)];
    const pages = await walk('/v1/admin/reconciliation/runs', 2, (seen) => mine.every((id) => seen.some((r) => r.id === id)));
    const seen = pages.flat();
    assertNewestFirst(seen, 'started_at');
    assert.deepEqual(seen.filter((r) => mine.includes(r.id)).map((r) => r.id), [...mine].reverse(), 'newest first across pages');
    assert.ok(pages.length >= 2, 'three runs at two a page take two pages');
    const bad = await admin('GET', '/v1/admin/reconciliation/runs?starting_after=rec_000000000000000000000000');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'cursor_invalid');
    assert.equal((await admin('GET', '/v1/admin/reconciliation/runs?limit=0')).body.error.code, 'parameter_invalid');
  });

  it('breaks: the open queue pages without repeating or skipping a break', async function () {
    this.timeout(60_000);
    const m = await newMerchant();
    const refs = ['lists-a', 'lists-b', 'lists-c'];
    for (const reference of refs) {
      const o = await api('POST', '/v1/orders', { key: m.key, body: { reference, amount: '5', asset: 'USDT', status: 'fulfilled' } });
      assert.equal(o.status, 201, JSON.stringify(o.body));
    }
    await completedRun(m.key);
    const ours = (b: Item & { merchant_id?: string }) => b.merchant_id === m.merchantId;
    const pages = await walk('/v1/admin/reconciliation/breaks', 1, (seen) => seen.filter(ours).length === refs.length);
    const seen = pages.flat() as Array<Item & { merchant_id?: string; order_reference?: string }>;
    assertNewestFirst(seen, 'created_at');
    assert.deepEqual(seen.filter(ours).map((b) => b.order_reference).sort(), refs);
    const bad = await admin('GET', '/v1/admin/reconciliation/breaks?starting_after=brk_000000000000000000000000');
    assert.equal(bad.body.error.code, 'cursor_invalid');
  });

  it('chain exceptions: the queue pages newest first, each exception once', async function () {
    this.timeout(30_000);
    const acts = createPaymentActivities({ pool: h().stack.pool, config: h().config });
    const m = await newMerchant();
    const p = await api('POST', '/v1/payments', { key: m.key, body: { amount: '1.00', rail: 'usdt-erc20', reference: 'lists-cex' } });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    const hashes = ['0x' + 'c1'.repeat(32), '0x' + 'c2'.repeat(32), '0x' + 'c3'.repeat(32)];
    for (const tx of hashes) {
      assert.equal(await acts.recordLateTransfers({ paymentId: p.body.id, rail: 'usdt-erc20', status: 'recognized', transfers: [{ key: `${tx}:0`, amountMinor: '1000' }] }), 1);
    }
    const pages = await walk('/v1/admin/chain_exceptions', 1, (seen) => hashes.every((tx) => seen.some((e) => (e as { tx_hash?: string }).tx_hash === tx)));
    const seen = pages.flat() as Array<Item & { tx_hash?: string }>;
    assertNewestFirst(seen, 'created_at');
    assert.deepEqual(seen.filter((e) => hashes.includes(e.tx_hash!)).map((e) => e.tx_hash), [...hashes].reverse());
    const bad = await admin('GET', '/v1/admin/chain_exceptions?starting_after=cex_000000000000000000000000');
    assert.equal(bad.body.error.code, 'cursor_invalid');
  });
});
