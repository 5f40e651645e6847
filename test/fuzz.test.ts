// Property-based fuzzing of the HTTP surface: whatever arrives, the answer is never a 5xx,
// and a rejected request changes nothing in PostgreSQL and starts no workflow. The last suite
// drives every operation of /openapi.json from its own schemas.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { createApiKey } from '../activities/merchant.js';
import { ADMIN_TOKEN, api, eventually, h, newMerchant, newOperator } from './harness.js';
import { freshAddress } from './payout-helpers.js';
import { mutated, valueFor } from './openapi-arbitraries.js';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv) => Ajv;

/** What a rejected request by this merchant could have written, for this merchant only (other tests' workflows write meanwhile). */
async function snapshot(merchantId: string) {
  const { rows } = await h().stack.pool.query(
    `WITH mine AS (SELECT id FROM payments WHERE merchant_id = $1)
     SELECT (SELECT count(*) FROM mine)::int AS p, (SELECT count(*) FROM events WHERE merchant_id = $1)::int AS e,
            (SELECT count(*) FROM evidence WHERE subject = $1 OR subject IN (SELECT id FROM mine))::int AS v,
            (SELECT count(*) FROM idempotency_keys WHERE scope LIKE $1 || ':%')::int AS i,
            (SELECT count(*) FROM payment_transitions WHERE payment_id IN (SELECT id FROM mine))::int AS t`,
    [merchantId],
  );
  return rows[0];
}

/**
 * What a rejected operator request could have written. Merchants, keys and these evidence kinds
 * are written only by requests (never by a background workflow), and the suite runs one test at a time.
 */
async function adminSnapshot(merchantId: string) {
  const { rows } = await h().stack.pool.query(
    `SELECT (SELECT count(*) FROM merchants)::int AS merchants, (SELECT count(*) FROM api_keys)::int AS keys,
            (SELECT count(*) FROM rail_enablements WHERE merchant_id = $1)::int AS rails,
            (SELECT count(*) FROM evidence WHERE kind IN ('merchant.created', 'api_key.created', 'rail.enabled', 'access_request.filed'))::int AS v,
            (SELECT count(*) FROM idempotency_keys WHERE scope LIKE 'admin:%')::int AS i,
            (SELECT count(*) FROM payment_transitions WHERE payment_id = 'pay_x')::int AS t`,
    [merchantId],
  );
  return rows[0];
}

const jsonish = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

const paymentBody = fc.record(
  {
    amount: fc.oneof(jsonish, fc.stringMatching(/^-?[0-9]{0,4}(\.[0-9]{0,9})?$/)),
    rail: fc.oneof(jsonish, fc.constantFrom('usdt-erc20', 'usdt-trc20', 'nope')),
    reference: jsonish,
    expires_in_s: fc.oneof(fc.integer({ min: -10, max: 700_000 }), jsonish),
    metadata: jsonish,
    extra: jsonish,
  },
  { requiredKeys: [] },
);

describe('HTTP fuzzing (fast-check)', () => {
  it('POST /v1/payments: never a 5xx; a rejection writes nothing', async function () {
    this.timeout(120_000);
    const m = await newMerchant();
    await fc.assert(
      fc.asyncProperty(fc.oneof(paymentBody.map((b) => JSON.stringify(b)), fc.string({ maxLength: 60 })), fc.option(fc.string({ minLength: 1, maxLength: 20 })), async (raw, idem) => {
        const before = await snapshot(m.merchantId);
        const r = await api('POST', '/v1/payments', { key: m.key, rawBody: raw, idem: idem ?? undefined });
        assert.ok(r.status < 500, `5xx for ${raw}: ${JSON.stringify(r.body)}`);
        if (r.status >= 400) {
          assert.ok(r.body?.error?.code, 'typed error');
          assert.deepEqual(await snapshot(m.merchantId), before, `state changed on rejected ${raw}`);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('GET endpoints and admin POSTs: never a 5xx on arbitrary queries and bodies', async function () {
    this.timeout(120_000);
    const m = await newMerchant();
    const paths = ['/v1/payments', '/v1/events', '/v1/payments/pay_x', '/v1/public/payments/x', '/v1/rails'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.dictionary(fc.constantFrom('limit', 'starting_after', 'status', 'reference', 'type', 'zzz'), fc.string({ maxLength: 30 }), { maxKeys: 3 }), async (path, q) => {
        const qs = new URLSearchParams(q).toString();
        const r = await api('GET', `${path}${qs ? `?${qs}` : ''}`, { key: m.key });
        assert.ok(r.status < 500, `${r.status} for ${path}?${qs}`);
      }),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/admin/merchants', '/v1/admin/access_requests/ar_x/approve', '/v1/admin/payments/pay_x/resolve', `/v1/admin/merchants/${m.merchantId}/api_keys`), jsonish, async (path, b) => {
        const before = await adminSnapshot(m.merchantId);
        const r = await api('POST', path, { key: ADMIN_TOKEN, rawBody: JSON.stringify(b) });
        assert.ok(r.status < 500, `${r.status} for ${path} ${JSON.stringify(b)}`);
        if (r.status >= 400) assert.deepEqual(await adminSnapshot(m.merchantId), before);
      }),
      { numRuns: 60 },
    );
  });
});

/**
 * The spec-driven fuzz: every operation in the served /openapi.json gets requests generated
 * from its own schemas (path ids from real objects of this test, query and body values from
 * the JSON Schemas, sometimes one mutation off), and every answer must be documented: no 5xx,
 * a status the operation lists, a 2xx body that validates against its success schema, a 4xx
 * in the Error shape.
 */
describe('spec-driven fuzzing from /openapi.json', () => {
  /** Operations whose valid requests would touch state other suite tests rely on: they get only refused input here. */
  const REFUSED_ONLY = new Set([
    'post /v1/console/sessions', // failed sign-ins count against 127.0.0.1's shared window
    'post /v1/admin/sweeps', // plans over every merchant's deposit addresses (the sweep tests own them)
    'post /v1/admin/reconciliation/runs', // an environment-wide run would open breaks for other tests' data
  ]);
  /** The id prefix a path segment's parameter takes. */
  const PREFIX: Record<string, string> = {
    payments: 'pay', webhook_endpoints: 'we', events: 'evt', payout_destinations: 'pd', payouts: 'po', merchants: 'mer',
    operators: 'op', operator_tokens: 'otk', access_requests: 'ar', api_keys: 'key', runs: 'rec', sweeps: 'sw', breaks: 'brk',
  };

  it('every operation: no 5xx, only documented statuses, 2xx bodies valid against their schemas', async function () {
    this.timeout(300_000);
    const spec = (await api('GET', '/openapi.json')).body;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'spec', components: spec.components });
    const schemaOf = (ref: string) => ajv.getSchema(`spec${ref}`)!;

    // Real objects to aim path ids at: the fuzz's own merchant, operator and their things.
    const m = await newMerchant();
    const fuzzAdmin = await newOperator('admin', 'fuzz-admin');
    const spare = await newOperator('viewer', 'fuzz-spare');
    const spareKey = await createApiKey(h().stack.pool, m.merchantId, 'sandbox', ['payments:read'], 'test');
    const pay = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '3.00', rail: 'usdt-erc20', reference: 'fuzz-pay' }, idem: 'fuzz-pay' })).body;
    const order = (await api('POST', '/v1/orders', { key: m.key, body: { reference: 'fuzz-order', amount: '3', asset: 'USDT' } })).body;
    const hook = (await api('POST', '/v1/webhook_endpoints', { key: m.key, body: { url: 'http://127.0.0.1:9/fuzz' } })).body;
    const dest = (await api('POST', '/v1/payout_destinations', { key: m.key, body: { rail: 'usdt-erc20', address: freshAddress(), label: 'fuzz' } })).body;
    const run = (await api('POST', '/v1/reconciliation/runs', { key: m.key, body: {} })).body;
    const evt = await eventually(async () => (await api('GET', '/v1/events', { key: m.key })).body.data[0]?.id as string | undefined);
    const ids = [pay.id, pay.public_id, order.id, hook.id, dest.id, run.id, evt, m.merchantId, spare.id, spare.tokenId, spareKey.id];
    for (const id of ids) assert.match(String(id), /^[a-z]+_/, `fixture made: ${JSON.stringify({ pay, order, hook, dest, run, evt })}`);
    const idsFor = (segment: string, param: string) => {
      const prefix = param === 'public_id' ? 'pub' : PREFIX[segment];
      const mine = ids.filter((i) => prefix && i.startsWith(`${prefix}_`));
      return fc.oneof({ arbitrary: mine.length ? fc.constantFrom(...mine) : fc.constant('nope'), weight: 4 }, { arbitrary: fc.stringMatching(/^[a-z]{2,3}_[0-9A-Za-z]{24}$/), weight: 1 });
    };

    // Real values by property name, mixed into generated ones (see valueFor).
    const hints: Record<string, fc.Arbitrary<unknown>> = {
      rail: fc.constant('usdt-erc20'),
      rails: fc.constant(['usdt-erc20']),
      asset: fc.constant('USDT'),
      amount: fc.stringMatching(/^[1-9][0-9]{0,2}(\.[0-9]{1,2})?$/),
      environment: fc.constant('sandbox'),
      url: fc.constant('http://127.0.0.1:9/fuzz'),
      address: fc.constant(null).map(() => freshAddress()),
      destination: fc.constant(dest.id),
      endpoint_id: fc.constant(hook.id),
      merchant_id: fc.constant(m.merchantId),
      starting_after: fc.constantFrom(pay.id, order.id, hook.id),
      since: fc.constant(new Date(Date.now() - 3_600_000).toISOString()),
      reference: fc.stringMatching(/^fuzz-[a-z0-9]{1,12}$/),
      orders: fc.array(fc.record({ reference: fc.stringMatching(/^fuzz-[a-z0-9]{1,12}$/), amount: fc.constant('2'), asset: fc.constant('USDT') }), { minLength: 1, maxLength: 3 }),
    };
    const reached2xx = new Set<string>();
    let requests = 0;
    const operations = Object.entries(spec.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
    for (const { path, method, op } of operations) {
      const name = `${method} ${path}`;
      const segments = path.split('/');
      const pathArb = fc.record(Object.fromEntries(op.parameters.filter((p: any) => p.in === 'path').map((p: any) => [p.name, idsFor(segments[segments.indexOf(`{${p.name}}`) - 1]!, p.name)]))) as fc.Arbitrary<Record<string, string>>;
      const queryProps = Object.fromEntries(op.parameters.filter((p: any) => p.in === 'query').map((p: any) => [p.name, valueFor(p.schema, spec.components.schemas, hints)]));
      const queryArb = fc.record(Object.fromEntries(Object.entries(queryProps).map(([k, a]) => [k, hints[k] ? fc.oneof(hints[k]!, a as fc.Arbitrary<unknown>) : a])), { requiredKeys: [] });
      const bodySchema = op.requestBody?.content['application/json'].schema;
      const validBody = bodySchema ? valueFor(bodySchema, spec.components.schemas, hints) : fc.constant(undefined);
      const bodyArb = !bodySchema ? fc.constant(undefined) : REFUSED_ONLY.has(name) ? validBody.map((b) => ({ ...(b as object), zz_unknown: 1 })) : fc.oneof({ arbitrary: validBody, weight: 3 }, { arbitrary: validBody.chain(mutated), weight: 1 });
      const idemArb = method === 'post' ? fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/)) : fc.constant(null);
      const key = op.security?.[0]?.operatorToken ? fuzzAdmin.token : op.security?.[0]?.secretKey ? m.key : undefined;
      await fc.assert(
        fc.asyncProperty(pathArb, queryArb, bodyArb, idemArb, async (params, query, body, idem) => {
          const url = path.replace(/\{([a-z_]+)\}/g, (_, p: string) => encodeURIComponent(params[p]!));
          const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString();
          const r = await api(method.toUpperCase(), `${url}${qs ? `?${qs}` : ''}`, { key, body, idem: idem ?? undefined });
          requests++;
          const what = `${name} ${url}?${qs} ${JSON.stringify(body)} -> ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`;
          assert.ok(r.status < 500, `5xx: ${what}`);
          const documented = op.responses[String(r.status)];
          assert.ok(documented, `undocumented status: ${what}`);
          const type = r.headers.get('content-type') ?? '';
          if (r.status < 300) {
            reached2xx.add(name);
            if (type.startsWith('text/csv')) assert.ok(documented.content['text/csv'], `undocumented CSV: ${what}`);
            else {
              const v = schemaOf(documented.content['application/json'].schema.$ref);
              assert.ok(v(r.body), `answer does not match its schema: ${what}\n${ajv.errorsText(v.errors)}`);
            }
          } else {
            const v = schemaOf('#/components/schemas/Error');
            assert.ok(v(r.body), `error not in the Error shape: ${what}`);
          }
        }),
        { numRuns: 4 },
      );
    }
    assert.ok(requests >= operations.length * 4 && requests < 600, `${requests} requests`);
    // The schemas are checked for real: most operations answered 2xx at least once.
    assert.ok(reached2xx.size >= operations.length / 2, `only ${reached2xx.size}/${operations.length} operations reached a 2xx: ${[...reached2xx].join(', ')}`);
  });
});
