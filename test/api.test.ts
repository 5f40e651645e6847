import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createApp } from '../api/app.js';
import { createMetrics } from '../api/metrics.js';
import { createLogger } from '../api/logger.js';
import { operatorNamed, ADMIN_TOKEN, admin, api, eventually, h, newMerchant, newOperator } from './harness.js';

const pay = (over: Record<string, unknown> = {}) => ({ amount: '125.50', rail: 'usdt-erc20', reference: 'order-1', ...over });

/**
 * What a request by this merchant could have written, counted for this merchant only: background
 * workflows of other tests write events and evidence meanwhile. An address is assigned in the same
 * transaction as its payment row, so an assigned address without a payment is a leak from anyone.
 */
async function counts(merchantId: string) {
  const { rows } = await h().stack.pool.query(
    `WITH mine AS (SELECT id FROM payments WHERE merchant_id = $1)
     SELECT (SELECT count(*) FROM mine)::int AS payments,
            (SELECT count(*) FROM events WHERE merchant_id = $1)::int AS events,
            (SELECT count(*) FROM evidence WHERE subject = $1 OR subject IN (SELECT id FROM mine))::int AS evidence,
            (SELECT count(*) FROM idempotency_keys WHERE scope LIKE $1 || ':%')::int AS idem,
            (SELECT count(*) FROM deposit_addresses WHERE payment_id IN (SELECT id FROM mine))::int AS addresses,
            (SELECT count(*) FROM deposit_addresses d WHERE d.payment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = d.payment_id))::int AS orphan_addresses`,
    [merchantId],
  );
  return rows[0];
}

describe('API: payments', () => {
  it('creates a payment whose id is its workflow id, with the fields DESIGN.md names', async () => {
    const m = await newMerchant();
    const r = await api('POST', '/v1/payments', { key: m.key, body: pay({ metadata: { cart: '42' } }) });
    assert.equal(r.status, 201);
    const p = r.body;
    for (const f of ['id', 'status', 'amount', 'amount_received', 'rail', 'deposit_address', 'expires_at', 'public_id', 'hosted_url', 'reference', 'created_at']) assert.ok(f in p, f);
    assert.match(p.id, /^pay_/);
    assert.equal(p.status, 'awaiting_payment');
    assert.equal(p.amount, '125.50');
    assert.equal(p.amount_received, '0.00');
    assert.match(p.deposit_address, /^0x[0-9a-fA-F]{40}$/);
    assert.equal(r.headers.get('cache-control'), 'no-store', 'no cache keeps a payment');
    assert.equal(p.hosted_url, `${h().config.base_url}/pay/${p.public_id}`);
    const desc = await h().stack.client.workflow.getHandle(p.id).describe();
    assert.equal(desc.type, 'paymentWorkflow');
    assert.equal(desc.status.name, 'RUNNING');
    const got = await api('GET', `/v1/payments/${p.id}`, { key: m.key });
    assert.deepEqual(got.body, p);
  });

  it('bounds metadata (20 keys, keys of 40 characters, values of 500) and names the key at fault', async () => {
    const m = await newMerchant();
    const err = async (metadata: unknown) => (await api('POST', '/v1/payments', { key: m.key, body: pay({ metadata }) })).body.error;
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
    assert.deepEqual(Object.values(await err(many)).slice(1), ['parameter_invalid', 'metadata must NOT have more than 20 properties', 'metadata']);
    const longKey = 'k'.repeat(41);
    const e = await err({ [longKey]: 'v' });
    assert.deepEqual([e.code, e.param], ['parameter_invalid', `metadata.${longKey}`]);
    assert.match(e.message, new RegExp(`^metadata key "${longKey}" must NOT have more than 40 characters`));
    const v = await err({ note: 'x'.repeat(501) });
    assert.deepEqual([v.code, v.param], ['parameter_invalid', 'metadata.note']);
    const ok = await api('POST', '/v1/payments', { key: m.key, body: pay({ metadata: { ...Object.fromEntries(Array.from({ length: 19 }, (_, i) => [`k${i}`, 'v'])), ['k'.repeat(40)]: 'x'.repeat(500) } }) });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal((await counts(m.merchantId)).payments, 1, 'the refused requests wrote nothing');
  });

  it('gives each payment its own deposit address, and TRON payments base58 addresses', async () => {
    const m = await newMerchant();
    const a = await api('POST', '/v1/payments', { key: m.key, body: pay() });
    const b = await api('POST', '/v1/payments', { key: m.key, body: pay() });
    const t = await api('POST', '/v1/payments', { key: m.key, body: pay({ rail: 'usdt-trc20' }) });
    assert.notEqual(a.body.deposit_address, b.body.deposit_address);
    assert.match(t.body.deposit_address, /^T[1-9A-HJ-NP-Za-km-z]{33}$/);
  });

  it('lists with cursor pagination and filters, newest first', async () => {
    const m = await newMerchant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api('POST', '/v1/payments', { key: m.key, body: pay({ reference: i % 2 ? 'odd' : 'even' }) })).body.id);
    const page1 = await api('GET', '/v1/payments?limit=2', { key: m.key });
    assert.equal(page1.status, 200);
    assert.deepEqual(page1.body.data.map((p: { id: string }) => p.id), [ids[4], ids[3]]);
    assert.equal(page1.body.has_more, true);
    const page2 = await api('GET', `/v1/payments?limit=2&starting_after=${ids[3]}`, { key: m.key });
    assert.deepEqual(page2.body.data.map((p: { id: string }) => p.id), [ids[2], ids[1]]);
    const page3 = await api('GET', `/v1/payments?limit=2&starting_after=${ids[1]}`, { key: m.key });
    assert.deepEqual(page3.body.data.map((p: { id: string }) => p.id), [ids[0]]);
    assert.equal(page3.body.has_more, false);
    const odd = await api('GET', '/v1/payments?reference=odd', { key: m.key });
    assert.equal(odd.body.data.length, 2);
    const st = await api('GET', '/v1/payments?status=expired', { key: m.key });
    assert.equal(st.body.data.length, 0);
    const bad = await api('GET', '/v1/payments?starting_after=pay_AAAAAAAAAAAAAAAAAAAAAAAA', { key: m.key });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'cursor_invalid');
  });

  it('cancels an awaiting payment through its workflow and refuses a second cancel with 409', async () => {
    const m = await newMerchant();
    const p = (await api('POST', '/v1/payments', { key: m.key, body: pay() })).body;
    const c = await api('POST', `/v1/payments/${p.id}/cancel`, { key: m.key });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.equal(c.body.status, 'canceled');
    const again = await api('POST', `/v1/payments/${p.id}/cancel`, { key: m.key });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'payment_not_cancelable');
    const ev = await api('GET', `/v1/events?object_id=${p.id}`, { key: m.key });
    assert.deepEqual(ev.body.data.map((e: { type: string }) => e.type), ['payment.canceled', 'payment.created']);
    assert.deepEqual(ev.body.data.map((e: { sequence: number }) => e.sequence), [2, 1]);
    // One event by its id (a webhook's webhook-id), only the owner's.
    const one = await api('GET', `/v1/events/${ev.body.data[0].id}`, { key: m.key });
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.deepEqual(one.body, ev.body.data[0]);
    const stranger = await newMerchant();
    assert.deepEqual([(await api('GET', `/v1/events/${ev.body.data[0].id}`, { key: stranger.key })).status, (await api('GET', '/v1/events/evt_nope', { key: m.key })).body.error?.code], [404, 'resource_missing']);
    // Three cancels at once (different keys): one cancels, the others get the documented code.
    const q = (await api('POST', '/v1/payments', { key: m.key, body: pay() })).body;
    const all = await Promise.all([1, 2, 3].map(() => api('POST', `/v1/payments/${q.id}/cancel`, { key: m.key })));
    assert.deepEqual(all.map((r) => r.status).sort(), [200, 409, 409]);
    for (const r of all.filter((x) => x.status === 409)) assert.equal(r.body.error.code, 'payment_not_cancelable');
    const qe = await api('GET', `/v1/events?object_id=${q.id}`, { key: m.key });
    assert.deepEqual(qe.body.data.map((e: { type: string }) => e.type), ['payment.canceled', 'payment.created'], 'canceled once');
  });

  it('shows the payer a public view with nothing secret or internal', async () => {
    const m = await newMerchant();
    const p = (await api('POST', '/v1/payments', { key: m.key, body: pay({ metadata: { secret_note: 'internal' } }) })).body;
    const r = await api('GET', `/v1/public/payments/${p.public_id}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.body.amount, '125.50');
    assert.equal(r.body.deposit_address, p.deposit_address);
    const text = JSON.stringify(r.body);
    for (const hidden of [p.id, m.merchantId, 'order-1', 'internal', 'sk_']) assert.ok(!text.includes(hidden), `public view leaks ${hidden}`);
    assert.equal((await api('GET', '/v1/public/payments/pub_nope')).status, 404);
  });
});

describe('API: keys, scopes, environments and reviewed enablement', () => {
  it('answers 401 for a missing, malformed or revoked key and 403 for a missing scope', async () => {
    assert.equal((await api('GET', '/v1/payments')).body.error.code, 'api_key_missing');
    assert.equal((await api('GET', '/v1/payments', { key: 'sk_test_nope' })).status, 401);
    const m = await newMerchant({ scopes: ['payments:read'] });
    const w = await api('POST', '/v1/payments', { key: m.key, body: pay() });
    assert.equal(w.status, 403);
    assert.deepEqual(Object.keys(w.body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(w.body.error.code, 'scope_missing');
    const rv = await admin('POST', `/v1/admin/api_keys/${m.keyId}/revoke`, {});
    assert.equal(rv.status, 200);
    assert.equal((await api('GET', '/v1/payments', { key: m.key })).status, 401);
  });

  it('hides another merchant\'s and another environment\'s payments behind 404', async () => {
    const a = await newMerchant();
    const b = await newMerchant();
    const p = (await api('POST', '/v1/payments', { key: a.key, body: pay() })).body;
    for (const path of [`/v1/payments/${p.id}`]) assert.equal((await api('GET', path, { key: b.key })).status, 404);
    assert.equal((await api('POST', `/v1/payments/${p.id}/cancel`, { key: b.key })).status, 404);
    assert.equal((await api('GET', '/v1/payments', { key: b.key })).body.data.length, 0);
    assert.equal((await api('GET', `/v1/payments?starting_after=${p.id}`, { key: b.key })).status, 400);
  });

  it('issues live keys and live rails only after an operator approves an access request', async () => {
    const m = await newMerchant();
    const early = await admin('POST', `/v1/admin/merchants/${m.merchantId}/api_keys`, { environment: 'live' });
    assert.equal(early.status, 403);
    assert.equal(early.body.error.code, 'live_not_approved');
    // Devnet rails are sandbox-only; a live rail must exist in config to be requested.
    const ar = await api('POST', '/v1/access_requests', { key: m.key, body: { rails: ['usdt-erc20'], use_case: 'B2B invoices', expected_volume: '100k USDT/month' } });
    assert.equal(ar.status, 400);
    assert.equal(ar.body.error.code, 'rail_unknown');
    const sandboxKeyPayment = await api('POST', '/v1/payments', { key: m.key, body: pay() });
    assert.equal(sandboxKeyPayment.status, 201);
    assert.equal(sandboxKeyPayment.body.livemode, false);
  });

  it('keeps sandbox and live apart end to end once live is approved', async () => {
    const { stack, config } = h();
    // Offer a live rail for this test by enabling it in config (config is per process).
    // It stays configured for the rest of the run: payments on it keep their rail, as in production.
    // Not a devnet rail: a devnet rail is sandbox only (processes started later would refuse the config).
    const liveRail = { ...config.rails[0]!, id: 'usdt-erc20-live', environments: ['live' as const], devnet: false };
    if (!config.rails.some((r) => r.id === liveRail.id)) config.rails.push(liveRail);
    const { ensureAddressSequences } = await import('../activities/deposit-address.js');
    await ensureAddressSequences(stack.pool, [liveRail]);
    {
      const m = await newMerchant();
      const ar = await api('POST', '/v1/access_requests', { key: m.key, body: { rails: ['usdt-erc20-live'], use_case: 'B2B invoices', expected_volume: '100k USDT/month' } });
      assert.equal(ar.status, 201, JSON.stringify(ar.body));
      // The operator is who the credential says: a name in a header is refused, not believed.
      const named = await api('POST', `/v1/admin/access_requests/${ar.body.id}/approve`, { key: ADMIN_TOKEN, body: { reason: 'KYB done' }, headers: { 'stablerail-operator': 'alice' } });
      assert.equal(named.status, 400);
      assert.equal(named.body.error.code, 'parameter_unknown');
      const alice = await operatorNamed('alice');
      const ok = await alice.call('POST', `/v1/admin/access_requests/${ar.body.id}/approve`, { reason: 'KYB done' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.status, 'approved');
      assert.equal(ok.body.decided_by, `${alice.id}@${alice.tokenId}`);
      const again = await admin('POST', `/v1/admin/access_requests/${ar.body.id}/approve`, { reason: 'twice' });
      assert.equal(again.status, 409);
      const live = await admin('POST', `/v1/admin/merchants/${m.merchantId}/api_keys`, { environment: 'live', scopes: ['payments:write', 'payments:read'] });
      assert.equal(live.status, 201);
      assert.match(live.body.secret, /^sk_live_/);
      const lp = await api('POST', '/v1/payments', { key: live.body.secret, body: pay({ rail: 'usdt-erc20-live' }) });
      assert.equal(lp.status, 201, JSON.stringify(lp.body));
      assert.equal(lp.body.livemode, true);
      // The sandbox key of the same merchant cannot see the live payment, and vice versa.
      assert.equal((await api('GET', `/v1/payments/${lp.body.id}`, { key: m.key })).status, 404);
      const sp = await api('POST', '/v1/payments', { key: m.key, body: pay() });
      assert.equal((await api('GET', `/v1/payments/${sp.body.id}`, { key: live.body.secret })).status, 404);
      // A sandbox rail is not offered to live keys.
      assert.equal((await api('POST', '/v1/payments', { key: live.body.secret, body: pay() })).body.error.code, 'rail_unknown');
      const { rows } = await stack.pool.query(`SELECT kind, actor FROM evidence WHERE subject = $1 ORDER BY seq`, [m.merchantId]);
      assert.deepEqual(rows.map((r) => r.kind), ['merchant.created', 'api_key.created', 'access_request.filed', 'rail.enabled', 'access_request.approved', 'api_key.created']);
    }
    {
      // Two operators deciding one request at once: the request's row lock makes one decision;
      // the other is refused and leaves no rail and no evidence.
      const m = await newMerchant();
      const ar = await api('POST', '/v1/access_requests', { key: m.key, body: { rails: ['usdt-erc20-live'], use_case: 'Racing decisions', expected_volume: '1k USDT/month' } });
      assert.equal(ar.status, 201);
      const bob = await operatorNamed('bob');
      const [approve, reject] = await Promise.all([
        admin('POST', `/v1/admin/access_requests/${ar.body.id}/approve`, { reason: 'KYB done' }),
        bob.call('POST', `/v1/admin/access_requests/${ar.body.id}/reject`, { reason: 'no KYB' }),
      ]);
      assert.deepEqual([approve.status, reject.status].sort(), [200, 409]);
      const loser = approve.status === 409 ? approve : reject;
      assert.equal(loser.body.error.code, 'access_request_decided');
      const approved = approve.status === 200;
      const { rows: rails } = await stack.pool.query(`SELECT rail_id FROM rail_enablements WHERE merchant_id = $1 AND environment = 'live'`, [m.merchantId]);
      assert.deepEqual(rails.map((r) => r.rail_id), approved ? ['usdt-erc20-live'] : []);
      const { rows: ev } = await stack.pool.query(`SELECT kind FROM evidence WHERE subject = $1 AND kind LIKE 'access_request.%' ORDER BY seq`, [m.merchantId]);
      assert.deepEqual(ev.map((r) => r.kind), ['access_request.filed', approved ? 'access_request.approved' : 'access_request.rejected']);
    }
  });

  it('refuses the operator API without the admin token', async () => {
    const m = await newMerchant();
    assert.equal((await api('POST', '/v1/admin/merchants', { key: m.key, body: { name: 'x' } })).status, 401);
    assert.equal((await api('POST', '/v1/admin/merchants', { body: { name: 'x' } })).status, 401);
  });

  it('answers 429 with Retry-After when a key exceeds its rate', async () => {
    const { stack, config } = h();
    const app = createApp({ pool: stack.pool, config: { ...config, rate_limit: { ...config.rate_limit, per_s: 1, burst: 3 } }, temporal: stack.client, metrics: createMetrics(stack.pool), masterKey: h().masterKey }, createLogger(undefined, 'silent'));
    const server: Server = await new Promise((r) => { const s = app.listen(0, '127.0.0.1', () => r(s)); });
    try {
      const m = await newMerchant();
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/payments`;
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const r = await fetch(url, { headers: { authorization: `Bearer ${m.key}` } });
        statuses.push(r.status);
        if (r.status === 429) {
          retryAfter = r.headers.get('retry-after');
          assert.equal((await r.json()).error.code, 'rate_limited');
        } else await r.arrayBuffer();
      }
      assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
      assert.equal(statuses[4], 429);
      assert.ok(Number(retryAfter) >= 1);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});

describe('API: bad input changes nothing', () => {
  const cases: Array<[string, { rawBody?: string; body?: unknown; headers?: Record<string, string> }, number, string]> = [
    ['malformed JSON', { rawBody: '{"amount": "1",' }, 400, 'body_malformed_json'],
    ['a JSON array', { rawBody: '[1,2]' }, 400, 'body_invalid'],
    ['a wrong type', { body: pay({ amount: 125.5 }) }, 400, 'parameter_invalid_type'],
    ['a zero amount', { body: pay({ amount: '0' }) }, 400, 'amount_not_positive'],
    ['a zero amount with decimals', { body: pay({ amount: '0.00' }) }, 400, 'amount_not_positive'],
    ['a negative amount', { body: pay({ amount: '-5' }) }, 400, 'amount_not_positive'],
    ['an amount with an exponent', { body: pay({ amount: '1e3' }) }, 400, 'amount_invalid'],
    ['an amount of 45 digits', { body: pay({ amount: '1'.repeat(45) }) }, 400, 'amount_too_large'],
    ['an amount of 60 digits', { body: pay({ amount: '1'.repeat(60) }) }, 400, 'amount_too_large'],
    ['an over-precise amount', { body: pay({ amount: '1.1234567' }) }, 400, 'amount_too_precise'],
    ['an unknown rail', { body: pay({ rail: 'doge-mainnet' }) }, 400, 'rail_unknown'],
    ['an unknown field', { body: pay({ colour: 'red' }) }, 400, 'parameter_unknown'],
    ['a missing field', { body: { amount: '1', rail: 'usdt-erc20' } }, 400, 'parameter_missing'],
    ['too short a window', { body: pay({ expires_in_s: 5 }) }, 400, 'parameter_invalid'],
    ['too long a window', { body: pay({ expires_in_s: 604801 }) }, 400, 'parameter_invalid'],
    ['an oversized body', { rawBody: JSON.stringify(pay({ reference: 'x'.repeat(70_000) })) }, 413, 'body_too_large'],
  ];
  for (const [name, req, status, code] of cases) {
    it(`refuses ${name} with ${status} ${code}, starting no workflow and writing nothing`, async () => {
      const m = await newMerchant();
      const before = await counts(m.merchantId);
      const r = await api('POST', '/v1/payments', { key: m.key, idem: `bad-${name}`, ...req });
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.error.code, code);
      assert.deepEqual(await counts(m.merchantId), before);
    });
  }

  it('refuses a rail that is configured but not enabled for the merchant', async () => {
    const m = await newMerchant();
    await h().stack.pool.query(`DELETE FROM rail_enablements WHERE merchant_id = $1 AND rail_id = 'usdt-trc20'`, [m.merchantId]);
    const before = await counts(m.merchantId);
    const r = await api('POST', '/v1/payments', { key: m.key, body: pay({ rail: 'usdt-trc20' }) });
    assert.equal(r.body.error.code, 'rail_not_enabled');
    assert.deepEqual(await counts(m.merchantId), before);

    // As for a merchant created before the rail was configured: an admin enables it in sandbox.
    const path = `/v1/admin/merchants/${m.merchantId}/sandbox_rails`;
    assert.equal((await (await newOperator('operator', 'rails-ops')).call('POST', path, {})).body.error.code, 'role_forbidden');
    const unknown = await admin('POST', path, { rails: ['doge-mainnet'] });
    assert.deepEqual([unknown.status, unknown.body.error.code, unknown.body.error.param], [400, 'rail_unknown', 'rails']);
    const on = await admin('POST', path, {});
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.ok(on.body.rails.sandbox.includes('usdt-trc20'));
    assert.deepEqual(on.body.rails.live, []);
    assert.equal((await admin('POST', path, {})).status, 200, 'enabling again changes nothing');
    const ev = await h().stack.pool.query(`SELECT payload FROM evidence WHERE kind = 'rail.enabled' AND subject = $1`, [m.merchantId]);
    assert.deepEqual(ev.rows.map((x) => x.payload), [{ rail: 'usdt-trc20', environment: 'sandbox' }], 'one entry for the one rail it lacked');
    assert.equal((await api('POST', '/v1/payments', { key: m.key, body: pay({ rail: 'usdt-trc20' }) })).status, 201);
  });
});

describe('API: service endpoints', () => {
  it('serves /healthz, /readyz with every dependency up, Prometheus /metrics and an OpenAPI 3.1 spec', async () => {
    assert.equal((await api('GET', '/healthz')).status, 200);
    const ready = await eventually(async () => {
      const r = await api('GET', '/readyz');
      return r.status === 200 ? r : null;
    });
    assert.deepEqual(ready.body.checks, { database: true, temporal: true, workers: true });
    const metrics = await api('GET', '/metrics');
    assert.match(metrics.body, /stablerail_http_requests_total/);
    assert.match(metrics.body, /stablerail_payments\{environment="sandbox",status="awaiting_payment"\}/);
    assert.match(metrics.body, /stablerail_workflow_starts_total\{workflow="paymentWorkflow",result="started"\}/);
    const spec = (await api('GET', '/openapi.json')).body;
    assert.equal(spec.openapi, '3.1.0');
    assert.ok(spec.paths['/v1/payments'].post.requestBody);
    assert.ok(spec.paths['/v1/payments/{id}'].get);
    assert.equal(spec.components.schemas.PaymentCreate.required.includes('amount'), true);
  });

  it('answers unknown routes in the error shape', async () => {
    const r = await api('GET', '/v1/nothing-here');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'route_unknown');
  });
});
