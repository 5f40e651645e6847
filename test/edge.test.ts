// The edge, probed as an attacker would over HTTP: every bad input answers a typed 4xx before
// anything is written, and the corrected request with the same Idempotency-Key then succeeds.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app.js';
import { createLogger } from '../api/logger.js';
import { createMetrics } from '../api/metrics.js';
import { ADMIN_TOKEN, api, h, newMerchant } from './harness.js';
import { freePort } from '../scripts/embedded/temporal.js';
import { freshAddress } from './payout-helpers.js';
import type { StablerailConfig } from '../activities/config.js';

const RAIL = 'usdt-erc20';
const payment = (reference = `edge-${randomBytes(4).toString('hex')}`) => ({ amount: '12.50', rail: RAIL, reference });
const idem = () => `edge-${randomBytes(8).toString('hex')}`;

/** Everything a merchant's request could write, and the operator-side tables a request writes. */
async function state(merchantId: string) {
  const { rows } = await h().stack.pool.query(
    `SELECT (SELECT count(*) FROM payments WHERE merchant_id = $1)::int AS payments,
            (SELECT count(*) FROM orders WHERE merchant_id = $1)::int AS orders,
            (SELECT count(*) FROM events WHERE merchant_id = $1)::int AS events,
            (SELECT count(*) FROM webhook_endpoints WHERE merchant_id = $1)::int AS endpoints,
            (SELECT count(*) FROM payout_destinations WHERE merchant_id = $1)::int AS destinations,
            (SELECT count(*) FROM idempotency_keys WHERE scope LIKE $1 || ':%' OR scope LIKE 'admin:%')::int AS keys,
            (SELECT count(*) FROM merchants)::int AS merchants,
            (SELECT count(*) FROM evidence)::int AS evidence`,
    [merchantId],
  );
  return rows[0];
}

/** One raw request: any method, headers and bytes, to the suite's API or another app. */
async function send(method: string, path: string, opts: { key?: string; idem?: string; headers?: Record<string, string>; body?: Buffer | string; base?: string } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.idem) headers['idempotency-key'] = opts.idem;
  const res = await fetch(`${opts.base ?? h().stack.apiUrl}${path}`, { method, headers, body: typeof opts.body === 'string' || opts.body === undefined ? opts.body : new Uint8Array(opts.body) });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON: the assertion below says so */ }
  return { status: res.status, body, headers: res.headers };
}

function assertTyped(r: { status: number; body: any }, status: number, code: string, what: string) {
  assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body?.error?.code, code, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(typeof r.body.error.type, 'string', what);
  assert.equal(typeof r.body.error.message, 'string', what);
}

/** A second app on the suite's database, with its own config or Temporal client; closed after fn. */
async function withApp<T>(change: { config?: Partial<StablerailConfig>; temporal?: Client }, fn: (base: string) => Promise<T>): Promise<T> {
  const { stack, config, masterKey } = h();
  const app = createApp({ pool: stack.pool, config: { ...config, ...change.config }, temporal: change.temporal ?? stack.client, metrics: createMetrics(stack.pool), masterKey }, createLogger(undefined, 'silent'));
  const server: Server = await new Promise((r) => { const s = app.listen(0, '127.0.0.1', () => r(s)); });
  try {
    return await fn(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const JSON_TYPE = { 'content-type': 'application/json' };

describe('The edge: bad input is a typed 4xx, writes nothing, and keeps the Idempotency-Key free', () => {
  it('a malformed percent-escape in a path or a query is 400 url_malformed, never a 500', async () => {
    const m = await newMerchant();
    const before = await state(m.merchantId);
    for (const path of ['/pay/%E0%A4%A', '/v1/public/payments/%ZZ', '/v1/payments/%ZZ', '/v1/payments?reference=%E0%A4%A', '/v1/events?type=%ZZ', '/v1/payments?%ZZ=1']) {
      assertTyped(await send('GET', path, { key: m.key }), 400, 'url_malformed', path);
    }
    const key = idem();
    assertTyped(await send('POST', '/v1/payments/%E0%A4%A/cancel', { key: m.key, idem: key }), 400, 'url_malformed', 'POST cancel');
    assert.deepEqual(await state(m.merchantId), before);
    // The key was not held: the corrected call with it goes through.
    const p = await api('POST', '/v1/payments', { key: m.key, body: payment(), idem: idem() });
    assert.equal(p.status, 201);
    const cancel = await send('POST', `/v1/payments/${p.body.id}/cancel`, { key: m.key, idem: key });
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal(cancel.body.status, 'canceled');
  });

  it('Content-Encoding foo or a chain is 415; corrupt gzip, deflate and brotli are 400; good gzip and brotli bodies then create the payment under the same key', async () => {
    const m = await newMerchant();
    const body = JSON.stringify(payment());
    const before = await state(m.merchantId);
    const key = idem();
    for (const enc of ['foo', 'gzip, br', 'compress']) {
      assertTyped(await send('POST', '/v1/payments', { key: m.key, idem: key, headers: { ...JSON_TYPE, 'content-encoding': enc }, body }), 415, 'content_encoding_unsupported', enc);
    }
    const corrupt = Buffer.from('this is not a compressed stream at all');
    for (const enc of ['gzip', 'deflate', 'br']) {
      assertTyped(await send('POST', '/v1/payments', { key: m.key, idem: key, headers: { ...JSON_TYPE, 'content-encoding': enc }, body: corrupt }), 400, 'body_encoding_invalid', `corrupt ${enc}`);
    }
    // A truncated gzip stream (a good header, then cut) is as corrupt as garbage.
    const truncated = gzipSync(body).subarray(0, 15);
    assertTyped(await send('POST', '/v1/payments', { key: m.key, idem: key, headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: truncated }), 400, 'body_encoding_invalid', 'truncated gzip');
    assert.deepEqual(await state(m.merchantId), before, 'nothing written, the key not held');

    const ok = await send('POST', '/v1/payments', { key: m.key, idem: key, headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: gzipSync(body) });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const br = await send('POST', '/v1/payments', { key: m.key, idem: idem(), headers: { ...JSON_TYPE, 'content-encoding': 'br' }, body: brotliCompressSync(JSON.stringify(payment())) });
    assert.equal(br.status, 201, JSON.stringify(br.body));
    const deflate = await send('POST', '/v1/payments', { key: m.key, idem: idem(), headers: { ...JSON_TYPE, 'content-encoding': 'deflate' }, body: deflateSync(JSON.stringify(payment())) });
    assert.equal(deflate.status, 201, JSON.stringify(deflate.body));
  });

  it('a NUL (or an unpaired surrogate) in any string field, metadata key or query value is 400 before anything is written; the corrected body then succeeds with the same key', async () => {
    const m = await newMerchant();
    const admin = { key: ADMIN_TOKEN };
    const probes: Array<{ path: string; bad: unknown; good: unknown; param: string; as?: { key: string } }> = [
      { path: '/v1/payments', bad: payment('ref\u0000x'), good: payment(), param: 'reference' },
      { path: '/v1/payments', bad: { ...payment(), metadata: { 'k\u0000': 'v' } }, good: { ...payment(), metadata: { k: 'v' } }, param: 'metadata.k\\u0000' },
      { path: '/v1/payments', bad: { ...payment(), metadata: { note: 'a\u0000' } }, good: { ...payment(), metadata: { note: 'a' } }, param: 'metadata.note' },
      { path: '/v1/orders', bad: { reference: 'ord\u0000', amount: '5', asset: 'USDT' }, good: { reference: `ord-${randomBytes(4).toString('hex')}`, amount: '5', asset: 'USDT' }, param: 'reference' },
      { path: '/v1/webhook_endpoints', bad: { url: 'http://127.0.0.1:9/hook', description: 'x\u0000' }, good: { url: 'http://127.0.0.1:9/hook', description: 'x' }, param: 'description' },
      { path: '/v1/payout_destinations', bad: { rail: RAIL, address: freshAddress(), label: 'supplier\u0000' }, good: { rail: RAIL, address: freshAddress(), label: 'supplier' }, param: 'label' },
      { path: '/v1/admin/merchants', bad: { name: 'Shop\u0000' }, good: { name: 'Shop' }, param: 'name', as: admin },
      // An unpaired surrogate would be stored as U+FFFD: a search by the reference sent would miss it.
      { path: '/v1/payments', bad: payment('ref\ud800'), good: payment(), param: 'reference' },
      { path: '/v1/payments', bad: { ...payment(), metadata: { note: 'x\udc00y' } }, good: { ...payment(), metadata: { note: '\ud83d\ude00' } }, param: 'metadata.note' },
    ];
    for (const p of probes) {
      const key = idem();
      const before = await state(m.merchantId);
      const r = await send('POST', p.path, { key: (p.as ?? m).key, idem: key, headers: JSON_TYPE, body: JSON.stringify(p.bad) });
      assertTyped(r, 400, 'parameter_invalid', `${p.path} ${p.param}`);
      assert.equal(r.body.error.param, p.param);
      assert.deepEqual(await state(m.merchantId), before, `${p.path}: nothing written`);
      const again = await send('POST', p.path, { key: (p.as ?? m).key, idem: key, headers: JSON_TYPE, body: JSON.stringify(p.good) });
      assert.equal(again.status, 201, `${p.path} corrected: ${JSON.stringify(again.body)}`);
    }
    for (const [path, param] of [['/v1/payments?reference=%00', 'reference'], ['/v1/events?type=%00', 'type'], ['/v1/orders?reference=a%00b', 'reference'], ['/v1/payments/pay_%00', undefined]] as const) {
      const r = await send('GET', path, { key: m.key });
      assertTyped(r, 400, 'parameter_invalid', path);
      if (param) assert.equal(r.body.error.param, param);
    }
  });

  it('a request that ends in 5xx releases its Idempotency-Key: the same body resumes its reserved id, a corrected body gets a fresh one', async function () {
    this.timeout(120_000);
    const m = await newMerchant();
    // Temporal out of reach for real: a client on a port where nothing listens.
    const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 1000 });
    const dead = new Client({ connection, namespace: h().config.temporal.namespace });
    const same = payment();
    const [sameKey, fixKey] = [idem(), idem()];
    try {
      await withApp({ temporal: dead }, async (base) => {
        const [a, b] = await Promise.all([
          send('POST', '/v1/payments', { base, key: m.key, idem: sameKey, headers: JSON_TYPE, body: JSON.stringify(same) }),
          send('POST', '/v1/payments', { base, key: m.key, idem: fixKey, headers: JSON_TYPE, body: JSON.stringify(payment()) }),
        ]);
        assertTyped(a, 503, 'orchestrator_unavailable', 'Temporal down');
        assertTyped(b, 503, 'orchestrator_unavailable', 'Temporal down');
      });
    } finally {
      await connection.close().catch(() => undefined);
    }
    const claim = (key: string) => h().stack.pool.query(`SELECT state, resource_id FROM idempotency_keys WHERE scope = $1 AND key = $2`, [`${m.merchantId}:sandbox`, key]).then((r) => r.rows[0]);
    const failed = await claim(sameKey);
    assert.equal(failed.state, 'failed');
    assert.match(failed.resource_id, /^pay_/);

    const resumed = await send('POST', '/v1/payments', { key: m.key, idem: sameKey, headers: JSON_TYPE, body: JSON.stringify(same) });
    assert.equal(resumed.status, 201, JSON.stringify(resumed.body));
    assert.equal(resumed.body.id, failed.resource_id, 'the retry converges on the reserved payment id');

    const reservedForFix = (await claim(fixKey)).resource_id;
    const corrected = { ...payment(), amount: '99.00' };
    const fixed = await send('POST', '/v1/payments', { key: m.key, idem: fixKey, headers: JSON_TYPE, body: JSON.stringify(corrected) });
    assert.equal(fixed.status, 201, `a corrected body is not locked out by a failed first try: ${JSON.stringify(fixed.body)}`);
    assert.equal(fixed.body.amount, '99.00');
    assert.notEqual(fixed.body.id, reservedForFix, 'a different body never attaches to the id the failed body reserved');
    const replay = await send('POST', '/v1/payments', { key: m.key, idem: fixKey, headers: JSON_TYPE, body: JSON.stringify(corrected) });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.body.id, fixed.body.id);
  });

  it('an object that repeats a key, at the top or nested, is 400 body_duplicate_key', async () => {
    const m = await newMerchant();
    const before = await state(m.merchantId);
    const key = idem();
    const ref = `dup-${randomBytes(4).toString('hex')}`;
    for (const [raw, param] of [
      [`{"amount":"1.00","rail":"${RAIL}","reference":"${ref}","amount":"1000.00"}`, 'amount'],
      [`{"amount":"1.00","rail":"${RAIL}","reference":"${ref}","metadata":{"a":"x","b":"y","a":"z"}}`, 'metadata.a'],
      [`{"amount":"1.00","rail":"${RAIL}","reference":"${ref}","refer\\u0065nce":"other"}`, 'reference'],
    ] as const) {
      const r = await send('POST', '/v1/payments', { key: m.key, idem: key, headers: JSON_TYPE, body: raw });
      assertTyped(r, 400, 'body_duplicate_key', raw);
      assert.equal(r.body.error.param, param);
    }
    assert.deepEqual(await state(m.merchantId), before);
    const ok = await send('POST', '/v1/payments', { key: m.key, idem: key, headers: JSON_TYPE, body: JSON.stringify({ amount: '1.00', rail: RAIL, reference: ref, metadata: { a: 'x', b: 'y' } }) });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });

  it('a body that is not application/json in UTF-8 is 415; application/json; charset=utf-8 is accepted', async () => {
    const m = await newMerchant();
    const body = JSON.stringify(payment());
    const before = await state(m.merchantId);
    const key = idem();
    for (const headers of <Array<Record<string, string>>>[{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'application/json; charset=iso-8859-1' }, { 'content-type': 'application/jsonx' }, {}]) {
      // fetch adds text/plain to a string body without a type: send bytes for the "no type" probe.
      const r = await send('POST', '/v1/payments', { key: m.key, idem: key, headers, body: Buffer.from(body) });
      assertTyped(r, 415, 'content_type_unsupported', JSON.stringify(headers));
    }
    assert.deepEqual(await state(m.merchantId), before);
    const ok = await send('POST', '/v1/payments', { key: m.key, idem: key, headers: { 'content-type': 'Application/JSON; charset=UTF-8' }, body });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    // A POST with no body at all needs no type (cancel takes none).
    const cancel = await send('POST', `/v1/payments/${ok.body.id}/cancel`, { key: m.key, idem: idem() });
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
  });

  it('a known path with a method it does not serve is 405 with Allow; an unknown path stays 404', async () => {
    const m = await newMerchant();
    for (const [method, path, allow] of [
      ['DELETE', '/v1/payments', 'GET, HEAD, POST'],
      ['PUT', '/v1/payments/pay_x', 'GET, HEAD'],
      ['PATCH', '/v1/webhook_endpoints/we_x', 'DELETE, GET, HEAD, POST'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['DELETE', '/pay/pub_x', 'GET, HEAD'],
      ['GET', '/v1/payments/pay_x/cancel', 'POST'],
    ] as const) {
      const r = await send(method, path, { key: m.key });
      assertTyped(r, 405, 'method_not_allowed', `${method} ${path}`);
      assert.equal(r.headers.get('allow'), allow, `${method} ${path}`);
    }
    assertTyped(await send('DELETE', '/v1/nothing-here', { key: m.key }), 404, 'route_unknown', 'unknown path');
  });

  it('starting_after is looked up within the caller\'s merchant: another merchant\'s id is 400 cursor_invalid and reveals nothing', async function () {
    this.timeout(60_000);
    const a = await newMerchant();
    const b = await newMerchant();
    const order = await api('POST', '/v1/orders', { key: a.key, body: { reference: `o-${randomBytes(4).toString('hex')}`, amount: '5', asset: 'USDT' }, idem: idem() });
    assert.equal(order.status, 201, JSON.stringify(order.body));
    const pay = await api('POST', '/v1/payments', { key: a.key, body: payment(), idem: idem() });
    assert.equal(pay.status, 201);
    // The owner pages from its own ids.
    assert.equal((await api('GET', `/v1/orders?starting_after=${order.body.id}`, { key: a.key })).status, 200);
    assert.equal((await api('GET', `/v1/payments?starting_after=${pay.body.id}`, { key: a.key })).status, 200);
    for (const [who, path] of [
      [b.key, `/v1/orders?starting_after=${order.body.id}`],
      [b.key, `/v1/payments?starting_after=${pay.body.id}`],
      [b.key, `/v1/payouts?starting_after=po_${'A'.repeat(24)}`],
      [b.key, `/v1/ledger/entries?starting_after=pst_${'0'.repeat(32)}`],
      [b.key, `/v1/webhook_endpoints?starting_after=we_${'A'.repeat(24)}`],
    ] as const) {
      assertTyped(await api('GET', path, { key: who }), 400, 'cursor_invalid', path);
    }
  });

  it('a per-address limit runs before authentication: failed keys and public views spend it, then even a good key waits', async () => {
    const m = await newMerchant();
    const limited = (burst: number) => ({ config: { rate_limit: { ...h().config.rate_limit, address_per_s: 0.01, address_burst: burst } } });
    await withApp(limited(3), async (base) => {
      // Good keys do not spend the address's allowance.
      for (let i = 0; i < 5; i++) assert.equal((await send('GET', '/v1/rails', { base, key: m.key })).status, 200);
      for (let i = 0; i < 3; i++) assertTyped(await send('GET', '/v1/payments', { base, key: `sk_test_${randomBytes(16).toString('hex')}` }), 401, 'api_key_invalid', `bad key ${i}`);
      const r = await send('GET', '/v1/payments', { base, key: `sk_test_${randomBytes(16).toString('hex')}` });
      assertTyped(r, 429, 'rate_limited', 'fourth bad key');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      assertTyped(await send('GET', '/v1/rails', { base, key: m.key }), 429, 'rate_limited', 'good key from a spent address');
      assertTyped(await send('GET', '/v1/admin/evidence/verify', { base, key: `opk_${randomBytes(16).toString('hex')}` }), 429, 'rate_limited', 'operator token from a spent address');
    });
    await withApp(limited(2), async (base) => {
      for (let i = 0; i < 2; i++) assertTyped(await send('GET', `/v1/public/payments/pub_${'x'.repeat(24)}`, { base }), 404, 'resource_missing', 'public view');
      assertTyped(await send('GET', `/v1/public/payments/pub_${'x'.repeat(24)}`, { base }), 429, 'rate_limited', 'public view over the limit');
      assertTyped(await send('GET', `/pay/pub_${'x'.repeat(24)}`, { base }), 429, 'rate_limited', 'payer page over the limit');
    });
  });
});
