import assert from 'node:assert/strict';
import { api, eventually, h, newMerchant } from './harness.js';

describe('payment lifecycle over HTTP against the real servers', () => {
  it('a payment with a 10 s window expires on its durable timer and records each transition', async function () {
    this.timeout(40_000);
    const m = await newMerchant();
    const created = await api('POST', '/v1/payments', { key: m.key, body: { amount: '10.00', rail: 'usdt-erc20', reference: 'exp-1', expires_in_s: 10 } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const done = await eventually(async () => {
      const r = await api('GET', `/v1/payments/${created.body.id}`, { key: m.key });
      return r.body.status === 'expired' ? r : null;
    }, 25_000, 250);
    assert.equal(done.body.amount_received, '0.00');
    const { rows } = await h().stack.pool.query(
      `SELECT seq, from_status, to_status, cause, actor, exception_code, amount_received_minor::text AS received, created_at
         FROM payment_transitions WHERE payment_id = $1 ORDER BY seq`,
      [created.body.id],
    );
    assert.deepEqual(
      rows.map((t) => [t.seq, t.from_status, t.to_status, t.cause, t.actor, t.exception_code, t.received]),
      [
        [1, null, 'awaiting_payment', 'api_create', `api_key:${m.keyId}`, null, '0'],
        [2, 'awaiting_payment', 'expired', 'timer_expired', 'system', null, '0'],
      ],
    );
    // The timer fired at the window's end, not before it.
    assert.ok(rows[1].created_at.getTime() >= Date.parse(created.body.expires_at), `expired at ${rows[1].created_at.toISOString()}, window ends ${created.body.expires_at}`);
    // Each transition has its event, in the same order.
    const events = await h().stack.pool.query(`SELECT sequence, type FROM events WHERE object_id = $1 ORDER BY sequence`, [created.body.id]);
    assert.deepEqual(events.rows.map((e) => [e.sequence, e.type]), [[1, 'payment.created'], [2, 'payment.expired']]);
  });
});
