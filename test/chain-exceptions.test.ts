import assert from 'node:assert/strict';
import { admin, eventually, h, asOperator, newOperator, operatorNamed } from './harness.js';
import { createPayment, devnet, getPayment, mine, pay, rpc, transitionsOf, waitStatus, watcherCaughtUp } from './chain-helpers.js';
import { createPaymentActivities } from '../activities/payment.js';

describe('chain exceptions: underpaid, paid late, unmatched, and the operator resolving them', () => {
  // Both need a closed window (10 s at least): they are started together and checked in turn.
  let underpaid: { id: string; deposit_address: string };
  let late: { id: string; deposit_address: string };
  before(async function () {
    this.timeout(30_000);
    await watcherCaughtUp();
    underpaid = await createPayment('10.00', { expires_in_s: 10 });
    late = await createPayment('4.00', { expires_in_s: 10 });
    await pay(underpaid.deposit_address, 9_000_000n);
    await mine(3);
  });

  it('a confirmed payment short of the amount stays detected while the window is open, then becomes underpaid', async function () {
    this.timeout(30_000);
    await watcherCaughtUp();
    assert.equal((await waitStatus(underpaid.id, 'detected')).amount_received, '9.00');
    const r = await waitStatus(underpaid.id, 'requires_review', 20_000);
    assert.equal(r.exception.code, 'underpaid');
    assert.equal(r.amount_received, '9.00');
  });

  it('the operator accepts an underpaid payment: it becomes confirmed, and the decision is evidence', async () => {
    const res = await asOperator('ops-alice')('POST', `/v1/admin/payments/${underpaid.id}/resolve`, { decision: 'accept', reason: 'customer short-paid the fee, accepted' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'confirmed');
    const t = await transitionsOf(underpaid.id);
    assert.deepEqual(t.map((x) => x.to_status), ['awaiting_payment', 'detected', 'requires_review', 'confirmed']);
    const { rows } = await h().stack.pool.query(`SELECT actor, payload FROM evidence WHERE subject = $1 AND payload->>'to' = 'confirmed'`, [underpaid.id]);
    const alice = await operatorNamed('ops-alice');
    assert.equal(rows[0].actor, `${alice.id}@${alice.tokenId}`, 'the decision names the operator and the credential they used');
    assert.equal(rows[0].payload.cause, 'operator_accept');
    assert.equal(rows[0].payload.reason, 'customer short-paid the fee, accepted');
  });

  it('money to an expired payment becomes requires_review with exception paid_late; the operator refunds it', async function () {
    this.timeout(30_000);
    await waitStatus(late.id, 'expired', 20_000);
    await pay(late.deposit_address, 4_000_000n);
    const r = await waitStatus(late.id, 'requires_review');
    assert.equal(r.exception.code, 'paid_late');
    assert.equal(r.amount_received, '4.00');
    // A refund needs an address first: refused without one, and nothing changes.
    const transitionsBefore = await transitionsOf(late.id);
    const none = await asOperator('ops-bob')('POST', `/v1/admin/payments/${late.id}/resolve`, { decision: 'refund', reason: 'order was already canceled' });
    assert.equal(none.status, 400);
    assert.equal(none.body.error.code, 'refund_address_missing');
    const unchanged = await getPayment(late.id);
    assert.deepEqual([unchanged.status, unchanged.exception.code, unchanged.amount_received], ['requires_review', 'paid_late', '4.00']);
    assert.deepEqual(await transitionsOf(late.id), transitionsBefore, 'a refused decision records no transition');
    assert.deepEqual(transitionsBefore.map((x) => x.to_status), ['awaiting_payment', 'expired', 'requires_review']);
    const payouts = await h().stack.pool.query(`SELECT id FROM payouts WHERE payment_id = $1`, [late.id]);
    assert.equal(payouts.rows.length, 0, 'and starts no refund');
    const payerAddress = devnet().payer.address;
    const res = await asOperator('ops-bob')('POST', `/v1/admin/payments/${late.id}/resolve`, { decision: 'refund', reason: 'order was already canceled', refund_address: payerAddress });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'refunded');
    assert.match(res.body.refund.id, /^po_/);
    assert.equal(res.body.refund.status, 'pending_approval');
    assert.equal(res.body.refund.destination, payerAddress);
    // The refund waits for an operator like any payout; this test calls it off (test/refunds.test.ts
    // pays one out): the money is undecided again, so the payment is back in review.
    await asOperator('ops-bob')('POST', `/v1/admin/payouts/${res.body.refund.id}/cancel`, { reason: 'covered by refunds.test.ts' });
    const back = await waitStatus(late.id, 'requires_review');
    assert.equal(back.exception.code, 'refund_failed');
    const off = await asOperator('ops-bob')('POST', `/v1/admin/payments/${late.id}/resolve`, { decision: 'write_off', reason: 'payer unreachable' });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.status, 'written_off');
  });

  it('a transfer to a watched address whose payment has closed becomes an unmatched_transfer exception, not dropped', async function () {
    this.timeout(40_000);
    // The refunded payment's workflow ends after its monitoring window and releases the address.
    await eventually(async () => {
      const { rows } = await h().stack.pool.query(`SELECT payment_id FROM deposit_addresses WHERE address = $1`, [late.deposit_address]);
      return rows[0] && rows[0].payment_id === null;
    }, 20_000, 200);
    const tx = await pay(late.deposit_address, 777_000n);
    const ex = await eventually(async () => {
      const { rows } = await h().stack.pool.query(`SELECT code, amount_minor::text AS amount, detail FROM chain_exceptions WHERE tx_hash = $1`, [tx.toLowerCase()]);
      return rows[0];
    });
    assert.equal(ex.code, 'unmatched_transfer');
    assert.equal(ex.amount, '777000');
    const ev = await h().stack.pool.query(`SELECT 1 FROM evidence WHERE kind = 'chain.exception' AND payload->>'tx_hash' = $1`, [tx.toLowerCase()]);
    assert.equal(ev.rowCount, 1);

    // Operators see it in their queue and close it with a resolution and a reason, as evidence.
    const viewer = await newOperator('viewer', 'cex-viewer');
    const queue = await viewer.call('GET', '/v1/admin/chain_exceptions');
    assert.equal(queue.status, 200, JSON.stringify(queue.body));
    const mine = queue.body.data.find((e: { tx_hash: string }) => e.tx_hash === tx.toLowerCase());
    assert.deepEqual([mine.code, mine.status, mine.amount, mine.detail.reason], ['unmatched_transfer', 'open', '0.777', 'address_not_assigned']);
    assert.equal((await viewer.call('POST', `/v1/admin/chain_exceptions/${mine.id}/resolve`, { resolution: 'returned', reason: 'sent back' })).body.error.code, 'role_forbidden');
    const ops = asOperator('ops-cex');
    assert.equal((await ops('POST', `/v1/admin/chain_exceptions/${mine.id}/resolve`, { resolution: 'kept', reason: 'x' })).body.error.code, 'parameter_invalid');
    const closed = await ops('POST', `/v1/admin/chain_exceptions/${mine.id}/resolve`, { resolution: 'returned', reason: 'sent back to the payer by hand' });
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    assert.deepEqual([closed.body.status, closed.body.resolution, closed.body.reason], ['resolved', 'returned', 'sent back to the payer by hand']);
    assert.match(closed.body.resolved_by, new RegExp(`^${(await operatorNamed('ops-cex')).id}@otk_`));
    const again = await ops('POST', `/v1/admin/chain_exceptions/${mine.id}/resolve`, { resolution: 'returned', reason: 'again' });
    assert.deepEqual([again.status, again.body.error.code], [409, 'chain_exception_not_open'], 'closed once');
    assert.equal((await ops('POST', '/v1/admin/chain_exceptions/cex_000000000000000000000000/resolve', { resolution: 'returned', reason: 'x' })).status, 404);
    const rec = await h().stack.pool.query(`SELECT actor, payload FROM evidence WHERE kind = 'chain_exception.resolved' AND payload->>'exception_id' = $1`, [mine.id]);
    assert.equal(rec.rows.length, 1);
    assert.equal(rec.rows[0].payload.resolution, 'returned');
    assert.ok(!(await viewer.call('GET', '/v1/admin/chain_exceptions')).body.data.some((e: { id: string }) => e.id === mine.id), 'gone from the open queue');
    assert.ok((await viewer.call('GET', '/v1/admin/chain_exceptions?status=resolved')).body.data.some((e: { id: string }) => e.id === mine.id));
  });
});

describe('late money recorded by the payment workflow (a recognized, refunded or written-off payment)', () => {
  it("is the watcher's own unmatched_transfer exception, reason payment_closed, with its evidence, once however often it is recorded", async function () {
    this.timeout(30_000);
    const p = await createPayment('2.00');
    const acts = createPaymentActivities({ pool: h().stack.pool, config: h().config });
    const txHash = '0x' + 'ab'.repeat(32);
    const record = { paymentId: p.id, rail: 'usdt-erc20', status: 'recognized', transfers: [{ key: `${txHash}:3`, amountMinor: '500000' }] };
    assert.equal(await acts.recordLateTransfers(record), 1);
    assert.equal(await acts.recordLateTransfers(record), 0, 'a retried activity records nothing twice');
    const { rows } = await h().stack.pool.query(`SELECT id, code, to_address, amount_minor::text AS amount, payment_id, detail FROM chain_exceptions WHERE tx_hash = $1 AND log_index = 3`, [txHash]);
    assert.equal(rows.length, 1);
    assert.deepEqual([rows[0].code, rows[0].to_address, rows[0].amount, rows[0].payment_id, rows[0].detail], ['unmatched_transfer', p.deposit_address, '500000', p.id, { reason: 'payment_closed', payment_status: 'recognized' }]);
    const ev = await h().stack.pool.query(`SELECT subject, actor, dedupe_key FROM evidence WHERE kind = 'chain.exception' AND payload->>'tx_hash' = $1`, [txHash]);
    assert.deepEqual(ev.rows, [{ subject: rows[0].id, actor: `payment:${p.id}`, dedupe_key: `chain_exception:usdt-erc20:${txHash}:3:unmatched_transfer` }]);
  });
});

describe('chain reorgs staged with evm_snapshot / evm_revert', () => {
  it('reorgs of depth 1 to 10 roll back detected payments to awaiting_payment and confirmed ones to requires_review (reorged)', async function () {
    this.timeout(120_000);
    await watcherCaughtUp();
    const before = (await h().stack.pool.query(`SELECT reorgs FROM chain_cursors WHERE rail = 'usdt-erc20'`)).rows[0].reorgs as number;
    for (let depth = 1; depth <= 10; depth++) {
      const p = await createPayment('5.00');
      const snap = await rpc('evm_snapshot');
      await pay(p.deposit_address, 5_000_000n); // this block is the transfer's first confirmation
      if (depth > 1) await mine(depth - 1);
      const wasConfirmed = depth >= 3;
      await waitStatus(p.id, wasConfirmed ? 'confirmed' : 'detected');
      await watcherCaughtUp();
      assert.equal(await rpc('evm_revert', [snap]), true);
      await mine(depth + 1); // the new branch outgrows the old one
      if (wasConfirmed) {
        const r = await waitStatus(p.id, 'requires_review');
        assert.equal(r.exception.code, 'reorged', `depth ${depth}`);
      } else {
        const r = await waitStatus(p.id, 'awaiting_payment');
        assert.equal(r.amount_received, '0.00', `depth ${depth}`);
      }
      const t = await transitionsOf(p.id);
      assert.equal(t.at(-1)!.cause, 'chain_reorged', `depth ${depth}`);
      const removed = await h().stack.pool.query(`SELECT tx_hash, log_index, removed_at FROM chain_transfers WHERE payment_id = $1`, [p.id]);
      assert.equal(removed.rowCount, 1);
      assert.ok(removed.rows[0].removed_at, `depth ${depth}: the reorged transfer is kept, marked removed`);
      if (depth === 10) {
        // An exception about money a reorg takes away is closed by the reorg (and opens again if
        // the same transfer is recorded again, mined anew).
        const acts = createPaymentActivities({ pool: h().stack.pool, config: h().config });
        const snap2 = await rpc('evm_snapshot');
        const extra = (await pay(p.deposit_address, 1n)).toLowerCase();
        const t2 = await eventually(async () => (await h().stack.pool.query(`SELECT log_index FROM chain_transfers WHERE tx_hash = $1 AND removed_at IS NULL`, [extra])).rows[0], 15_000, 100);
        const late = { paymentId: p.id, rail: 'usdt-erc20', status: 'recognized', transfers: [{ key: `${extra}:${t2.log_index}`, amountMinor: '1' }] };
        assert.equal(await acts.recordLateTransfers(late), 1);
        assert.equal(await rpc('evm_revert', [snap2]), true);
        await mine(3);
        const closed = await eventually(async () => {
          const { rows } = await h().stack.pool.query(`SELECT id, status, resolution, resolved_by FROM chain_exceptions WHERE tx_hash = $1`, [extra]);
          return rows[0]?.status === 'resolved' ? rows[0] : null;
        }, 20_000, 200);
        assert.deepEqual([closed.resolution, closed.resolved_by], ['reorged', 'watcher:usdt-erc20']);
        assert.equal(await acts.recordLateTransfers(late), 1, 'recorded again: open again, the same exception');
        const again = (await h().stack.pool.query(`SELECT id, status FROM chain_exceptions WHERE tx_hash = $1`, [extra])).rows;
        assert.deepEqual(again, [{ id: closed.id, status: 'open' }]);
        assert.equal((await asOperator('ops-cex')('POST', `/v1/admin/chain_exceptions/${closed.id}/resolve`, { resolution: 'false_positive', reason: 'staged by the test' })).status, 200);
      }
    }
    const after = (await h().stack.pool.query(`SELECT reorgs FROM chain_cursors WHERE rail = 'usdt-erc20'`)).rows[0].reorgs as number;
    assert.equal(after - before, 11, 'ten staged depths, and the one that took the extra transfer away');
  });
});
