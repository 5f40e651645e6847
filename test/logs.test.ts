import assert from 'node:assert/strict';
import { admin, api, h, newMerchant } from './harness.js';

describe('JSON logs', () => {
  it('are JSON lines and never contain an API key, the admin token or a key hash', async () => {
    const m = await newMerchant();
    await api('POST', '/v1/payments', { key: m.key, body: { amount: '1.00', rail: 'usdt-erc20', reference: 'log-1' } });
    await api('GET', '/v1/payments', { key: 'sk_test_' + 'x'.repeat(32) });
    const k = await admin('POST', `/v1/admin/merchants/${m.merchantId}/api_keys`, { environment: 'sandbox' });
    await api('POST', '/v1/payments', { key: m.key, rawBody: '{broken' });
    const logs = h().logs;
    assert.ok(logs.length > 0);
    for (const line of logs) JSON.parse(line);
    const all = logs.join('\n');
    assert.ok(!all.includes(m.key), 'secret key in logs');
    assert.ok(!all.includes(k.body.secret), 'new secret in logs');
    assert.ok(!/sk_(test|live)_[0-9A-Za-z]{8}/.test(all), 'something shaped like a key in logs');
    assert.ok(!all.includes('adm_test_token'), 'admin token in logs');
    const { rows } = await h().stack.pool.query(`SELECT secret_hash FROM api_keys WHERE id = $1`, [m.keyId]);
    assert.ok(!all.includes(rows[0].secret_hash));
  });
});
