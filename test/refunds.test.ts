// A refund end to end on the devnet: an overpaid payment goes to review, the payer leaves a
// refund address on the public API, an operator decides `refund`, the refund payout is
// approved like any payout and confirmed on chain, and the ledger nets to zero for it.
import assert from 'node:assert/strict';
import { admin, api, eventually, h, asOperator, operatorNamed } from './harness.js';
import { chainMerchant, createPayment, mine, pay, waitStatus } from './chain-helpers.js';
import { balanceOf, freshAddress, miner, tokenBalance, waitPayout } from './payout-helpers.js';

describe('refunds', function () {
  this.timeout(120_000);

  it('overpaid → requires_review → payer leaves an address → operator refunds → approved → confirmed; ledger nets to zero', async () => {
    const m = await chainMerchant();
    const p = await createPayment('10.00', { reference: `refund-${Date.now()}` });
    await pay(p.deposit_address, 15_000_000n);
    await mine(3);
    const review = await waitStatus(p.id, 'requires_review', 20_000);
    assert.equal(review.exception.code, 'overpaid');

    // The payer, on the public API (no key): a malformed address is refused and changes nothing.
    const bad = await api('POST', `/v1/public/payments/${review.public_id}/refund_address`, { body: { address: '0x123' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_address');
    // Nor one of the platform's own deposit addresses (here, this payment's own).
    const own = await api('POST', `/v1/public/payments/${review.public_id}/refund_address`, { body: { address: p.deposit_address } });
    assert.deepEqual([own.status, own.body.error?.code], [400, 'destination_is_deposit_address']);
    const operatorOwn = await asOperator('ops-refunds-own')('POST', `/v1/admin/payments/${p.id}/resolve`, { decision: 'refund', reason: 'x', refund_address: p.deposit_address });
    assert.deepEqual([operatorOwn.status, operatorOwn.body.error?.code], [400, 'destination_is_deposit_address']);
    assert.equal((await api('GET', `/v1/payments/${p.id}`, { key: m.key })).body.status, 'requires_review', 'nothing decided');
    const payerRefund = freshAddress();
    const ok = await api('POST', `/v1/public/payments/${review.public_id}/refund_address`, { body: { address: payerRefund.toLowerCase() } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.refund_address, payerRefund, 'stored in checksum form');
    // Whoever else holds the link cannot redirect it: the first address stays.
    const hijack = await api('POST', `/v1/public/payments/${review.public_id}/refund_address`, { body: { address: freshAddress() } });
    assert.equal(hijack.status, 409);
    assert.equal(hijack.body.error.code, 'refund_address_already_set');
    // The payer's page retried (a lost answer): the same address answers the same, once recorded.
    const retried = await api('POST', `/v1/public/payments/${review.public_id}/refund_address`, { body: { address: payerRefund } });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.refund_address, payerRefund);
    const addrEv = await h().stack.pool.query(`SELECT actor, payload FROM evidence WHERE kind = 'payment.refund_address' AND subject = $1`, [p.id]);
    assert.deepEqual(addrEv.rows.map((r) => [r.actor, r.payload.address]), [['payer', payerRefund]]);
    // Recorded by the payment workflow (the route writes nothing): its history holds the Update.
    const hist = await h().stack.client.workflow.getHandle(p.id).fetchHistory();
    const updates = (hist.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'setRefundAddress');
    assert.equal(updates.length, 3, 'the first address, the hijack (refused by its handler) and the retry all went to the workflow');
    assert.equal((await api('GET', `/v1/public/payments/${review.public_id}`)).body.refund_address_set, true);
    assert.equal((await api('GET', `/v1/payments/${p.id}`, { key: m.key })).body.refund_address, payerRefund);

    // Two operators' consoles send the decision at once: the payment workflow serializes them,
    // the second answers the refund the first started.
    const [decided, racing] = await Promise.all([
      asOperator('ops-carol')('POST', `/v1/admin/payments/${p.id}/resolve`, { decision: 'refund', reason: 'customer paid twice the difference; return it all' }),
      asOperator('ops-erin')('POST', `/v1/admin/payments/${p.id}/resolve`, { decision: 'refund', reason: 'same here' }),
    ]);
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    assert.equal(racing.status, 200, JSON.stringify(racing.body));
    assert.equal(decided.body.status, 'refunded');
    const refundId = decided.body.refund.id as string;
    assert.equal(racing.body.refund.id, refundId);
    assert.equal(decided.body.refund.status, 'pending_approval');
    assert.equal(decided.body.refund.destination, payerRefund);
    // The refund payout is the payment workflow's child; its create step wrote the row and the hold.
    const child = await h().stack.client.workflow.getHandle(refundId).describe();
    assert.equal(child.type, 'payoutWorkflow');
    assert.equal(child.parentExecution?.workflowId, p.id);
    assert.equal((await h().stack.pool.query(`SELECT count(*)::int AS n FROM payouts WHERE payment_id = $1`, [p.id])).rows[0].n, 1, 'one refund row');
    // A retried decision finds the same refund, never a second one.
    const again = await asOperator('ops-carol')('POST', `/v1/admin/payments/${p.id}/resolve`, { decision: 'refund', reason: 'retry' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.refund.id, refundId);

    const r = await api('GET', `/v1/payouts/${refundId}`, { key: m.key });
    assert.equal((await admin('GET', `/v1/admin/payouts/${refundId}`)).body.id, refundId);
    assert.equal(r.body.kind, 'refund');
    assert.equal(r.body.payment_id, p.id);
    assert.equal(r.body.amount, '15.00');
    assert.equal(r.body.status, 'pending_approval');
    assert.equal(await balanceOf(m.key, 'payout_hold'), 15_000_000n, 'held for the payer until it leaves');

    // The payer's refund is an operator's decision: the merchant cannot call it off.
    const merchantCancel = await api('POST', `/v1/payouts/${refundId}/cancel`, { key: m.key, body: {} });
    assert.equal(merchantCancel.status, 409);
    assert.equal(merchantCancel.body.error.code, 'refund_cancel_operator_only');

    // The operator who decided the refund cannot also approve it: that is what a second person is for.
    const createdBy = (await h().stack.pool.query(`SELECT created_by FROM payouts WHERE id = $1`, [refundId])).rows[0].created_by as string;
    const decider = [await operatorNamed('ops-carol'), await operatorNamed('ops-erin')].find((o) => createdBy.startsWith(`${o.id}@`))!;
    assert.ok(decider, `the refund names its deciding operator: ${createdBy}`);
    const self = await decider.call('POST', `/v1/admin/payouts/${refundId}/approve`, { reason: 'my own decision' });
    assert.equal(self.status, 409);
    assert.equal(self.body.error.code, 'operator_requested_payout');

    const stop = miner();
    try {
      const a = await asOperator('ops-dan')('POST', `/v1/admin/payouts/${refundId}/approve`, { reason: 'refund checked' });
      assert.equal(a.status, 200, JSON.stringify(a.body));
      const done = await waitPayout(m.key, refundId, ['settled', 'failed']);
      assert.equal(done.status, 'settled', JSON.stringify(done));
    } finally {
      await stop();
    }
    assert.equal(await tokenBalance(payerRefund), 15_000_000n);
    assert.equal(await balanceOf(m.key, 'payout_hold'), 0n);
    // Money in, money out: this payment's entries leave custody and the merchant where they were.
    const { rows } = await h().stack.pool.query(
      `SELECT a.purpose, sum(l.amount_minor)::text AS s FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id JOIN ledger_accounts a ON a.id = l.account_id
        WHERE e.payment_id = $1 AND l.asset = 'USDT' GROUP BY a.purpose`,
      [p.id],
    );
    for (const row of rows) assert.equal(row.s, '0', `${row.purpose} nets to zero for a refunded payment`);
    assert.ok(rows.some((x) => x.purpose === 'custody'), 'the refund moved money through custody');
    const ev = await h().stack.pool.query(`SELECT kind FROM evidence WHERE subject = $1 ORDER BY seq`, [refundId]);
    assert.ok(ev.rows.some((e) => e.kind === 'payout.approval'));
  });

  it('a refund called off sends the payment back to review (refund_failed): accept is refused, a second refund pays out, the ledger nets to zero', async () => {
    const m = await chainMerchant();
    const p = await createPayment('2.00', { reference: `refund-off-${Date.now()}` });
    await pay(p.deposit_address, 3_000_000n);
    await mine(3);
    assert.equal((await waitStatus(p.id, 'requires_review', 20_000)).exception.code, 'overpaid');
    const first = await asOperator('ops-carol')('POST', `/v1/admin/payments/${p.id}/resolve`, { decision: 'refund', reason: 'return it', refund_address: freshAddress() });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const firstRefund = first.body.refund.id as string;
    const off = await asOperator('ops-dan')('POST', `/v1/admin/payouts/${firstRefund}/cancel`, { reason: 'wrong address given' });
    assert.equal(off.status, 200, JSON.stringify(off.body));

    const back = await waitStatus(p.id, 'requires_review');
    assert.equal(back.exception.code, 'refund_failed');
    assert.equal(back.amount_received, '3.00');
    const t = (await h().stack.pool.query(`SELECT from_status, to_status, cause, actor FROM payment_transitions WHERE payment_id = $1 ORDER BY seq`, [p.id])).rows;
    assert.deepEqual(t.at(-1), { from_status: 'refunded', to_status: 'requires_review', cause: 'refund_canceled', actor: `payout:${firstRefund}` });
    const ev = await api('GET', `/v1/events?object_id=${p.id}`, { key: m.key });
    assert.equal(ev.body.data[0].type, 'payment.requires_review', 'the merchant hears the payment is back in review');
    // The refund's hold and release took the money out of pending: accepting it would recognize money the ledger no longer holds.
    const accept = await asOperator('ops-carol')('POST', `/v1/admin/payments/${p.id}/resolve`, { decision: 'accept', reason: 'keep it' });
    assert.equal(accept.status, 409);
    assert.equal(accept.body.error.code, 'accept_not_possible');
    assert.equal((await api('GET', `/v1/payments/${p.id}`, { key: m.key })).body.status, 'requires_review');

    const payerRefund = freshAddress();
    const second = await asOperator('ops-carol')('POST', `/v1/admin/payments/${p.id}/resolve`, { decision: 'refund', reason: 'right address now', refund_address: payerRefund });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.notEqual(second.body.refund.id, firstRefund);
    assert.equal((await api('GET', `/v1/payouts/${second.body.refund.id}`, { key: m.key })).body.amount, '3.00', 'the whole amount again');
    const stop = miner();
    try {
      assert.equal((await asOperator('ops-dan')('POST', `/v1/admin/payouts/${second.body.refund.id}/approve`, { reason: 'checked' })).status, 200);
      assert.equal((await waitPayout(m.key, second.body.refund.id, ['settled', 'failed'])).status, 'settled');
    } finally {
      await stop();
    }
    assert.equal(await tokenBalance(payerRefund), 3_000_000n);
    // Paid out: the payment stays refunded, and its workflow closes after its window.
    await eventually(async () => (await h().stack.client.workflow.getHandle(p.id).describe()).status.name === 'COMPLETED', 20_000, 250);
    assert.equal((await api('GET', `/v1/payments/${p.id}`, { key: m.key })).body.status, 'refunded');
    const { rows } = await h().stack.pool.query(
      `SELECT a.purpose, sum(l.amount_minor)::text AS s FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id JOIN ledger_accounts a ON a.id = l.account_id
        WHERE e.payment_id = $1 AND l.asset = 'USDT' GROUP BY a.purpose`,
      [p.id],
    );
    for (const row of rows) assert.equal(row.s, '0', `${row.purpose} nets to zero after a refund called off and a second one paid`);
  });

  it('a refund address is refused when the payment is not under review', async () => {
    const p = await createPayment('3.00');
    const r = await api('GET', `/v1/payments/${p.id}`, { key: (await chainMerchant()).key });
    const res = await api('POST', `/v1/public/payments/${r.body.public_id}/refund_address`, { body: { address: freshAddress() } });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'refund_not_possible');
  });
});
