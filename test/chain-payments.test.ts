import assert from 'node:assert/strict';
import { eventually, h } from './harness.js';
import { createPayment, getPayment, mine, pay, payBatch, transitionsOf, waitStatus, watcherCaughtUp } from './chain-helpers.js';

// The devnet rail needs 3 confirmations (the block with the transfer counts as the first).
describe('chain payments on the real devnet (anvil) through the watcher', () => {
  before(async function () {
    this.timeout(30_000);
    await watcherCaughtUp();
  });

  it('an exact payment is detected, then confirmed at confirmations_required', async () => {
    const p = await createPayment('12.50');
    await pay(p.deposit_address, 12_500_000n);
    const detected = await waitStatus(p.id, 'detected');
    assert.equal(detected.amount_received, '12.50');
    await mine(1);
    await watcherCaughtUp();
    // The watcher has processed the second confirmation: two are not enough.
    const atTwo = await getPayment(p.id);
    assert.deepEqual([atTwo.status, atTwo.amount_received], ['detected', '12.50'], 'two confirmations are not enough');
    assert.deepEqual((await transitionsOf(p.id)).map((x) => x.to_status), ['awaiting_payment', 'detected']);
    await mine(1);
    const confirmed = await waitStatus(p.id, 'confirmed');
    assert.equal(confirmed.amount_received, '12.50');
    const t = await transitionsOf(p.id);
    assert.deepEqual(t.map((x) => x.to_status), ['awaiting_payment', 'detected', 'confirmed']);
    assert.deepEqual(t.map((x) => x.cause).slice(1), ['chain_detected', 'chain_confirmed']);
  });

  it('a split payment (two transactions) is confirmed once together they cover the amount', async () => {
    const p = await createPayment('20.00');
    await pay(p.deposit_address, 5_000_000n);
    await waitStatus(p.id, 'detected');
    await mine(3);
    await watcherCaughtUp();
    assert.equal((await waitStatus(p.id, 'detected')).amount_received, '5.00', 'a confirmed part payment waits for the rest inside the window');
    // A second part, not yet confirmed: the payment stays detected and says what it has seen.
    await pay(p.deposit_address, 3_000_000n);
    await eventually(async () => (await getPayment(p.id)).amount_received === '8.00', 15_000, 200);
    assert.equal((await getPayment(p.id)).status, 'detected');
    assert.deepEqual((await transitionsOf(p.id)).map((x) => x.to_status), ['awaiting_payment', 'detected'], 'no transition for it');
    await pay(p.deposit_address, 12_000_000n);
    await mine(2);
    const confirmed = await waitStatus(p.id, 'confirmed');
    assert.equal(confirmed.amount_received, '20.00');
  });

  it('several Transfer logs in one transaction each count once, keyed by (tx hash, log index)', async () => {
    const p = await createPayment('3.00');
    const tx = await payBatch([p.deposit_address, p.deposit_address, p.deposit_address], [1_000_000n, 1_000_000n, 1_000_000n]);
    await mine(2);
    const confirmed = await waitStatus(p.id, 'confirmed');
    assert.equal(confirmed.amount_received, '3.00');
    const { rows } = await h().stack.pool.query(`SELECT log_index FROM chain_transfers WHERE tx_hash = $1 AND payment_id = $2 ORDER BY log_index`, [tx.toLowerCase(), p.id]);
    assert.equal(rows.length, 3);
  });

  it('an overpayment becomes requires_review with exception overpaid', async () => {
    const p = await createPayment('1.00');
    await pay(p.deposit_address, 1_500_000n);
    await mine(2);
    const r = await waitStatus(p.id, 'requires_review');
    assert.equal(r.exception.code, 'overpaid');
    assert.equal(r.amount_received, '1.50');
  });

  it('a second transfer after confirmation becomes requires_review with exception multiple_transfers', async () => {
    const p = await createPayment('2.00');
    await pay(p.deposit_address, 2_000_000n);
    await mine(2);
    await waitStatus(p.id, 'confirmed');
    await pay(p.deposit_address, 2_000_000n);
    const r = await waitStatus(p.id, 'requires_review');
    assert.equal(r.exception.code, 'multiple_transfers');
  });
});
