// The treasury gates and three-plane reconciliation end to end on the real devnet: a payment is
// paid on chain, posted to pending at confirmation, matched by a reconciliation run, moved to
// available at finality; a reorg reverses its postings; injected faults are reported once each.
import assert from 'node:assert/strict';
import { api, admin, eventually, h, newMerchant } from './harness.js';
import { mine, pay, rpc, waitStatus, watcherCaughtUp } from './chain-helpers.js';
import { withTx } from '../activities/db.js';
import { postEntries } from '../activities/ledger.js';
import { paymentStateQuery } from '../workflows/shared.js';

type M = { merchantId: string; key: string };

async function createPaymentFor(m: M, amount: string, reference: string) {
  const r = await api('POST', '/v1/payments', { key: m.key, body: { amount, rail: 'usdt-erc20', reference } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { id: string; deposit_address: string };
}

async function statusOf(m: M, id: string, status: string, timeoutMs = 20_000) {
  return eventually(async () => {
    const p = (await api('GET', `/v1/payments/${id}`, { key: m.key })).body;
    return p.status === status ? p : null;
  }, timeoutMs, 100);
}

async function balancesOf(m: M): Promise<Record<string, string>> {
  const b = await api('GET', '/v1/ledger/balances', { key: m.key });
  return Object.fromEntries(b.body.data.map((d: { purpose: string; balance: string }) => [d.purpose, d.balance]));
}

async function reconcile(m: M) {
  const started = await api('POST', '/v1/reconciliation/runs', { key: m.key, body: { grace_s: 0 } });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  // The answer came after the run's workflow wrote its row (the API writes none): readable at once.
  const first = await api('GET', `/v1/reconciliation/runs/${started.body.id}`, { key: m.key });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.ok(['running', 'completed'].includes(first.body.status), first.body.status);
  return eventually(async () => {
    const r = await api('GET', `/v1/reconciliation/runs/${started.body.id}`, { key: m.key });
    return r.body.status === 'completed' ? r.body : null;
  }, 30_000, 200);
}

describe('treasury gates and reconciliation on the devnet', function () {
  this.timeout(120_000);
  before(async () => {
    await watcherCaughtUp();
  });

  it('detection posts nothing, confirmation posts to pending, and recognition (finality + reconciled) moves it to available', async () => {
    const m = await newMerchant();
    await api('POST', '/v1/orders', { key: m.key, body: { reference: 'inv-100', amount: '40.00', asset: 'USDT' } });
    const p = await createPaymentFor(m, '40.00', 'inv-100');
    await pay(p.deposit_address, 40_000_000n);
    await statusOf(m, p.id, 'detected');
    assert.deepEqual(await balancesOf(m), {}, 'detection is not posting');
    await mine(2);
    await statusOf(m, p.id, 'confirmed');
    await eventually(async () => (await balancesOf(m)).pending === '40.00');
    assert.equal((await balancesOf(m)).available ?? '0.00', '0.00');
    // Finality alone is not enough: reconciliation has not matched it yet.
    await mine(4);
    await watcherCaughtUp();
    // The workflow has seen the transfer final: the finality gate holds, the reconciliation gate does not.
    await eventually(async () => (await h().stack.client.workflow.getHandle(p.id).query(paymentStateQuery)).finalReached === true);
    assert.equal((await api('GET', `/v1/payments/${p.id}`, { key: m.key })).body.status, 'confirmed');
    assert.equal((await balancesOf(m)).available ?? '0.00', '0.00', 'nothing is available before reconciliation');
    const run = await reconcile(m);
    assert.equal(run.open_breaks, 0, JSON.stringify(run.breaks));
    assert.equal(run.matched_payments, 1);
    await statusOf(m, p.id, 'recognized');
    await eventually(async () => {
      const b = await balancesOf(m);
      return b.available === '40.00' && b.pending === '0.00';
    });
    const entries = (await api('GET', '/v1/ledger/entries', { key: m.key })).body.data;
    assert.deepEqual(entries.map((e: { gate: string }) => e.gate), ['confirmed', 'recognized']);
    assert.ok(entries.every((e: { tx_hash: string; payment_id: string }) => e.tx_hash && e.payment_id === p.id));
    const t = await api('GET', `/v1/payments/${p.id}/timeline`, { key: m.key });
    assert.deepEqual(t.body.transitions.map((x: { to_status: string }) => x.to_status), ['awaiting_payment', 'detected', 'confirmed', 'recognized']);
    assert.equal(t.body.postings.length, 4);
    // The evidence pack an auditor takes away.
    const pack = (await api('GET', `/v1/payments/${p.id}/evidence`, { key: m.key })).body;
    assert.equal(pack.object, 'evidence_pack');
    assert.equal(pack.transitions.length, 4);
    assert.equal(pack.transfers.length, 1);
    assert.ok(Number(pack.transfers[0].confirmations) >= 6);
    assert.equal(pack.postings.length, 4);
    assert.equal(pack.chain_proof.intact, true);
    assert.ok(pack.evidence.every((e: { hash: string; prevHash: string }) => /^[0-9a-f]{64}$/.test(e.hash) && /^[0-9a-f]{64}$/.test(e.prevHash)));
    assert.equal(pack.temporal_history.workflow_id, p.id);
  });

  it('late money to a recognized payment is a break until an operator closes its chain exception; then the next run clears it', async () => {
    const m = await newMerchant();
    const p = await createPaymentFor(m, '5.00', 'late-break');
    await pay(p.deposit_address, 5_000_000n);
    await mine(6);
    await watcherCaughtUp();
    await eventually(async () => (await h().stack.client.workflow.getHandle(p.id).query(paymentStateQuery)).finalReached === true);
    assert.equal((await reconcile(m)).matched_payments, 1);
    await statusOf(m, p.id, 'recognized');
    // Within the payment's monitoring window (5 s in tests): the workflow records it as late money.
    const tx = await pay(p.deposit_address, 1_000_000n);
    await mine(3);
    const ex = await eventually(async () => (await h().stack.pool.query(`SELECT id, payment_id FROM chain_exceptions WHERE lower(tx_hash) = lower($1)`, [tx])).rows[0], 20_000);
    assert.equal(ex.payment_id, p.id, 'attached to the payment it reached');
    const open = await reconcile(m);
    const late = open.breaks.filter((b: { class: string; tx_hash: string }) => b.class === 'confirmed_without_posting' && b.tx_hash.toLowerCase() === tx.toLowerCase());
    assert.equal(late.length, 1, JSON.stringify(open.breaks));
    assert.equal(late[0].drift, '-1.00');
    const closed = await admin('POST', `/v1/admin/chain_exceptions/${ex.id}/resolve`, { resolution: 'returned', reason: 'sent back to the payer' });
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    const after = await reconcile(m);
    assert.ok(!after.breaks.some((b: { tx_hash: string | null }) => b.tx_hash?.toLowerCase() === tx.toLowerCase()), 'decided once, in one queue');
    const b = await admin('GET', '/v1/admin/reconciliation/breaks?status=cleared');
    assert.ok(b.body.data.some((x: { id: string }) => x.id === late[0].id), 'the break is cleared, not deleted');
  });

  it('a reorg after posting reverses the postings, so pending returns to zero', async () => {
    const m = await newMerchant();
    const p = await createPaymentFor(m, '7.00', 'reorg-1');
    const snap = await rpc('evm_snapshot');
    await pay(p.deposit_address, 7_000_000n);
    await mine(2);
    await statusOf(m, p.id, 'confirmed');
    await eventually(async () => (await balancesOf(m)).pending === '7.00');
    await watcherCaughtUp();
    assert.equal(await rpc('evm_revert', [snap]), true);
    await mine(4);
    const r = await statusOf(m, p.id, 'requires_review');
    assert.equal(r.exception.code, 'reorged');
    await eventually(async () => (await balancesOf(m)).pending === '0.00');
    const entries = (await api('GET', '/v1/ledger/entries', { key: m.key })).body.data;
    assert.equal(entries.length, 2);
    assert.equal(entries[1].reverses, entries[0].id);
  });

  it('reports each injected fault once in its class, converges on rerun, and never brings back a resolved break', async () => {
    const m = await newMerchant();
    // A clean, settled payment with its order: no break.
    await api('POST', '/v1/orders', { key: m.key, body: { reference: 'ok-1', amount: '2.00', asset: 'USDT' } });
    const ok = await createPaymentFor(m, '2.00', 'ok-1');
    // amount_mismatch: the order says 3.00, the payment (and the chain) 2.50.
    await api('POST', '/v1/orders', { key: m.key, body: { reference: 'mis-1', amount: '3.00', asset: 'USDT' } });
    const mis = await createPaymentFor(m, '2.50', 'mis-1');
    // payment_without_order: money settled for a reference commerce never sent.
    const orphan = await createPaymentFor(m, '1.25', 'no-order-1');
    // order_without_payment: a fulfilled order nobody paid.
    await api('POST', '/v1/orders', { key: m.key, body: { reference: 'unpaid-1', amount: '9.00', asset: 'USDT', status: 'fulfilled' } });
    await pay(ok.deposit_address, 2_000_000n);
    await pay(mis.deposit_address, 2_500_000n);
    await pay(orphan.deposit_address, 1_250_000n);
    await mine(2);
    for (const id of [ok.id, mis.id, orphan.id]) await statusOf(m, id, 'confirmed');
    // posting_without_transfer: finance holds money for a transfer the chain never showed.
    await withTx(h().stack.pool, (c) =>
      postEntries(c, [{
        cause: `test:fake-posting:${m.merchantId}`, environment: 'sandbox', gate: 'confirmed', merchantId: m.merchantId, paymentId: orphan.id, rail: 'usdt-erc20',
        txHash: '0x' + 'f'.repeat(64), logIndex: 0,
        lines: [
          { account: { ownerType: 'rail', ownerId: 'usdt-erc20', environment: 'sandbox', purpose: 'custody', asset: 'USDT' }, amountMinor: 500_000n },
          { account: { ownerType: 'merchant', ownerId: m.merchantId, environment: 'sandbox', purpose: 'pending', asset: 'USDT' }, amountMinor: -500_000n },
        ],
      }]),
    );
    await eventually(async () => (await balancesOf(m)).pending === '6.25'); // 2 + 2.5 + 1.25 + 0.5 injected
    const run = await reconcile(m);
    const byClass = (r: { breaks: Array<{ class: string }> }) => r.breaks.map((b) => b.class).sort();
    assert.deepEqual(byClass(run), ['amount_mismatch', 'order_without_payment', 'payment_without_order', 'posting_without_transfer']);
    const mismatch = run.breaks.find((b: { class: string }) => b.class === 'amount_mismatch');
    assert.equal(mismatch.payment_id, mis.id);
    assert.equal(mismatch.order_reference, 'mis-1');
    assert.equal(mismatch.drift, '-0.50');
    assert.equal(run.drift_by_asset.USDT.order_without_payment, '-9.00');
    assert.equal(run.matched_payments, 1, 'only the clean payment is matched');
    const csv = await api('GET', `/v1/reconciliation/runs/${run.id}?format=csv`, { key: m.key });
    assert.match(csv.headers.get('content-type')!, /text\/csv/);
    assert.equal((csv.body as string).trim().split('\r\n').length, 5);
    // A rerun converges: the same breaks, the same ids.
    const again = await reconcile(m);
    assert.deepEqual(again.breaks.map((b: { id: string }) => b.id).sort(), run.breaks.map((b: { id: string }) => b.id).sort());
    // An operator resolves one with an audited decision; it does not come back.
    const orphanBreak = run.breaks.find((b: { class: string }) => b.class === 'payment_without_order');
    const res = await admin('POST', `/v1/admin/reconciliation/breaks/${orphanBreak.id}/resolve`, { resolution: 'accepted', reason: 'one-off sale without an order' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const twice = await admin('POST', `/v1/admin/reconciliation/breaks/${orphanBreak.id}/resolve`, { resolution: 'accepted', reason: 'again' });
    assert.deepEqual([twice.status, twice.body.error.code], [409, 'break_not_open']);
    assert.equal((await admin('POST', '/v1/admin/reconciliation/breaks/brk_000000000000000000000000/resolve', { resolution: 'accepted', reason: 'x' })).status, 404);
    const third = await reconcile(m);
    assert.deepEqual(byClass(third), ['amount_mismatch', 'order_without_payment', 'posting_without_transfer']);
    const { rows } = await h().stack.pool.query(`SELECT kind, actor FROM evidence WHERE kind = 'reconciliation.break_resolved' AND payload->>'break_id' = $1`, [orphanBreak.id]);
    assert.equal(rows.length, 1);
    // Fixing the cause clears the break: commerce corrects the order amount.
    await api('POST', '/v1/orders', { key: m.key, body: { reference: 'mis-1', amount: '2.50', asset: 'USDT' } });
    const fourth = await reconcile(m);
    assert.deepEqual(byClass(fourth), ['order_without_payment', 'posting_without_transfer']);
  });
});
