import assert from 'node:assert/strict';
import { api, eventually, newMerchant } from './harness.js';

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
    assert.equal(done.body.status, 'expired');
  });
});
