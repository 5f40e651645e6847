// Revoking payout destinations: by an approver at any time (cooling-off included) and by the
// merchant with DELETE; pending payouts to the address are canceled and their holds released.
import assert from 'node:assert/strict';
import { api, asOperator, eventually, h, newMerchant, newOperator } from './harness.js';
import { allowlist, balanceOf, freshAddress, seedAvailable, USDT, waitPayout } from './payout-helpers.js';

async function workflowClosed(id: string): Promise<void> {
  await eventually(async () => (await h().stack.client.workflow.getHandle(id).describe()).status.name === 'COMPLETED', 20_000, 100);
}

describe('payout destinations: revocation', function () {
  this.timeout(120_000);

  it('an approver revokes during cooling-off: it never becomes active and new payouts to it are refused', async () => {
    const m = await newMerchant({ name: 'Revoked in cooling-off' });
    await seedAvailable(m.merchantId, 10n * USDT);
    const address = freshAddress();
    const r = await api('POST', '/v1/payout_destinations', { key: m.key, body: { rail: 'usdt-erc20', address, label: 'new supplier' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const a = await asOperator('alice')('POST', `/v1/admin/payout_destinations/${r.body.id}/approve`, { reason: 'looked fine' });
    assert.equal(a.body.status, 'cooling_off');
    const viewer = await (await newOperator('viewer', 'viewer-vic')).call('POST', `/v1/admin/payout_destinations/${r.body.id}/revoke`, { reason: 'not mine to do' });
    assert.equal(viewer.status, 403, JSON.stringify(viewer.body));
    const rv = await asOperator('alice')('POST', `/v1/admin/payout_destinations/${r.body.id}/revoke`, { reason: 'supplier reported a phishing attempt' });
    assert.equal(rv.status, 200, JSON.stringify(rv.body));
    assert.equal(rv.body.status, 'revoked');
    // Its workflow ends without making it usable: the cooling-off wait ended on the revocation.
    await workflowClosed(r.body.id);
    assert.equal((await api('GET', `/v1/payout_destinations/${r.body.id}`, { key: m.key })).body.status, 'revoked');
    const po = await api('POST', '/v1/payouts', { key: m.key, body: { amount: '1', rail: 'usdt-erc20', destination: address, reference: 'after-revoke' } });
    assert.equal(po.status, 400, JSON.stringify(po.body));
    assert.equal(po.body.error.code, 'destination_not_allowlisted');
    assert.equal(await balanceOf(m.key, 'payout_hold'), 0n, 'nothing held');
    const ev = await h().stack.pool.query(`SELECT actor, payload FROM evidence WHERE kind = 'payout_destination.revoked' AND subject = $1`, [r.body.id]);
    assert.equal(ev.rows.length, 1);
    assert.equal(ev.rows[0].payload.was, 'cooling_off');
    assert.match(ev.rows[0].actor, /^op_/);
  });

  it('DELETE by the merchant revokes an active destination, cancels its pending payout and releases the hold; again is the same answer', async () => {
    const m = await newMerchant({ name: 'Deletes a destination' });
    await seedAvailable(m.merchantId, 20n * USDT);
    const address = freshAddress();
    const id = await allowlist(m.key, address);
    await workflowClosed(id); // active: its first workflow has ended
    const po = await api('POST', '/v1/payouts', { key: m.key, body: { amount: '5', rail: 'usdt-erc20', destination: id, reference: 'pending-1' } });
    assert.equal(po.status, 201, JSON.stringify(po.body));
    assert.equal(await balanceOf(m.key, 'payout_hold'), 5n * USDT);

    const del = await api('DELETE', `/v1/payout_destinations/${id}`, { key: m.key });
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.equal(del.body.status, 'revoked');
    const canceled = await waitPayout(m.key, po.body.id, ['canceled'], 20_000);
    assert.equal(canceled.status, 'canceled');
    await eventually(async () => (await balanceOf(m.key, 'payout_hold')) === 0n, 15_000, 100);
    assert.equal(await balanceOf(m.key, 'available'), 20n * USDT);
    const { rows } = await h().stack.pool.query(`SELECT cause FROM payout_transitions WHERE payout_id = $1 AND to_status = 'canceled'`, [po.body.id]);
    assert.equal(rows[0].cause, 'destination_revoked');

    const again = await api('DELETE', `/v1/payout_destinations/${id}`, { key: m.key });
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'revoked');
    const refused = await api('POST', '/v1/payouts', { key: m.key, body: { amount: '1', rail: 'usdt-erc20', destination: id, reference: 'after-delete' } });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'destination_not_allowlisted');
    // The address may be asked for again, from the start (approval and cooling-off).
    const fresh = await api('POST', '/v1/payout_destinations', { key: m.key, body: { rail: 'usdt-erc20', address, label: 'again' } });
    assert.equal(fresh.status, 201, JSON.stringify(fresh.body));
    assert.equal(fresh.body.status, 'pending_approval');
    // Another merchant cannot delete it.
    const other = await newMerchant({ name: 'Someone else' });
    assert.equal((await api('DELETE', `/v1/payout_destinations/${fresh.body.id}`, { key: other.key })).status, 404);
  });

  it('a rejected destination cannot be revoked (409) and stays rejected', async () => {
    const m = await newMerchant({ name: 'Rejected destination' });
    const r = await api('POST', '/v1/payout_destinations', { key: m.key, body: { rail: 'usdt-erc20', address: freshAddress(), label: 'x' } });
    const rej = await asOperator('alice')('POST', `/v1/admin/payout_destinations/${r.body.id}/reject`, { reason: 'unknown party' });
    assert.equal(rej.body.status, 'rejected');
    const rv = await api('DELETE', `/v1/payout_destinations/${r.body.id}`, { key: m.key });
    assert.equal(rv.status, 409, JSON.stringify(rv.body));
    assert.equal(rv.body.error.code, 'destination_not_revocable');
    assert.equal((await api('GET', `/v1/payout_destinations/${r.body.id}`, { key: m.key })).body.status, 'rejected');
  });

  it('the allowlist pages like every list: limit, starting_after, a truthful has_more, and another merchant\'s id is no cursor', async () => {
    const m = await newMerchant({ name: 'Paged destinations' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api('POST', '/v1/payout_destinations', { key: m.key, body: { rail: 'usdt-erc20', address: freshAddress(), label: `d${i}` } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    const first = await api('GET', '/v1/payout_destinations?limit=2', { key: m.key });
    assert.deepEqual([first.body.data.map((d: { id: string }) => d.id), first.body.has_more], [[ids[2], ids[1]], true]);
    const rest = await api('GET', `/v1/payout_destinations?limit=2&starting_after=${ids[1]}`, { key: m.key });
    assert.deepEqual([rest.body.data.map((d: { id: string }) => d.id), rest.body.has_more], [[ids[0]], false]);
    const all = await api('GET', '/v1/payout_destinations', { key: m.key });
    assert.deepEqual([all.body.data.length, all.body.has_more], [3, false]);
    const other = await newMerchant();
    const foreign = await api('GET', `/v1/payout_destinations?starting_after=${ids[0]}`, { key: other.key });
    assert.deepEqual([foreign.status, foreign.body.error.code, foreign.body.error.param], [400, 'cursor_invalid', 'starting_after']);
    assert.equal((await api('GET', '/v1/payout_destinations?limit=101', { key: m.key })).body.error.code, 'parameter_invalid');
  });
});
