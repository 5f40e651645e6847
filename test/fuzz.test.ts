// Property-based fuzzing of the HTTP surface: whatever arrives, the answer is never a 5xx,
// and a rejected request changes nothing in PostgreSQL and starts no workflow.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ADMIN_TOKEN, api, h, newMerchant } from './harness.js';

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
            (SELECT count(*) FROM idempotency_keys WHERE scope = 'admin')::int AS i,
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
