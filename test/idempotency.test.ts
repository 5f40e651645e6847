import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, api, eventually, h, newMerchant, newOperator } from './harness.js';
import { freePort } from '../scripts/embedded/temporal.js';

const body = { amount: '42.00', rail: 'usdt-erc20', reference: 'inv-42' };

async function paymentsFor(merchantId: string): Promise<string[]> {
  const { rows } = await h().stack.pool.query(`SELECT id FROM payments WHERE merchant_id = $1`, [merchantId]);
  return rows.map((r) => r.id);
}

async function workflowCount(paymentIds: string[]): Promise<number> {
  let n = 0;
  for (const id of paymentIds) {
    try {
      await h().stack.client.workflow.getHandle(id).describe();
      n += 1;
    } catch { /* not found */ }
  }
  return n;
}

describe('Idempotency-Key', () => {
  it('replays the first answer for the same key and body, and answers 422 for a different body', async () => {
    const m = await newMerchant();
    const a = await api('POST', '/v1/payments', { key: m.key, idem: 'k-1', body });
    const b = await api('POST', '/v1/payments', { key: m.key, idem: 'k-1', body });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.deepEqual(b.body, a.body);
    assert.equal(JSON.stringify(b.body), JSON.stringify(a.body), 'the replay is the first answer as written, keys in the same order');
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    const c = await api('POST', '/v1/payments', { key: m.key, idem: 'k-1', body: { ...body, amount: '43.00' } });
    assert.equal(c.status, 422);
    assert.equal(c.body.error.code, 'idempotency_key_reused');
    assert.equal((await paymentsFor(m.merchantId)).length, 1);
  });

  it('scopes keys to the caller: two merchants may use the same key', async () => {
    const a = await newMerchant();
    const b = await newMerchant();
    const ra = await api('POST', '/v1/payments', { key: a.key, idem: 'shared', body });
    const rb = await api('POST', '/v1/payments', { key: b.key, idem: 'shared', body });
    assert.notEqual(ra.body.id, rb.body.id);
  });

  it('scopes keys to the operator: a second admin sending the same key and body acts, never replays the first', async () => {
    const [alice, bob] = [await newOperator('admin', 'idem-alice'), await newOperator('admin', 'idem-bob')];
    const call = (op: typeof alice) => api('POST', '/v1/admin/merchants', { key: op.token, idem: 'op-shared', body: { name: 'Same key' } });
    const a = await call(alice);
    const b = await call(bob);
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.equal(b.status, 201, JSON.stringify(b.body));
    assert.equal(b.headers.get('idempotent-replayed'), null);
    assert.notEqual(b.body.id, a.body.id, "bob's request is his own, not a replay of alice's");
    const again = await call(alice);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.id, a.body.id);
    const { rows } = await h().stack.pool.query(`SELECT actor FROM evidence WHERE kind = 'merchant.created' AND subject = ANY($1) ORDER BY seq`, [[a.body.id, b.body.id]]);
    assert.deepEqual(rows.map((r) => r.actor.split('@')[0]), [alice.id, bob.id]);
  });

  it('answers 409 while the first request with a key is in flight', async () => {
    const m = await newMerchant();
    // Hold the claim as a request in flight would (a live lease), then retry.
    const { requestHash } = await import('../api/idempotency.js');
    await h().stack.pool.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, state, locked_until) VALUES ($1, 'busy', $2, 'in_flight', now() + interval '1 minute')`,
      [`${m.merchantId}:sandbox`, requestHash('POST', '/v1/payments', body)],
    );
    const r = await api('POST', '/v1/payments', { key: m.key, idem: 'busy', body });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'idempotency_request_in_flight');
    assert.equal(r.headers.get('retry-after'), '1');
  });

  it('50 parallel identical requests start exactly one workflow and write exactly one payment', async function () {
    this.timeout(60_000);
    const m = await newMerchant();
    const results = await Promise.all(Array.from({ length: 50 }, () => api('POST', '/v1/payments', { key: m.key, idem: 'burst-1', body })));
    const ok = results.filter((r) => r.status === 201);
    assert.ok(ok.length >= 1);
    for (const r of results) assert.ok(r.status === 201 || r.status === 409, `unexpected ${r.status}`);
    assert.equal(new Set(ok.map((r) => r.body.id)).size, 1);
    const ids = await paymentsFor(m.merchantId);
    assert.equal(ids.length, 1);
    assert.equal(await workflowCount(ids), 1);
    // The retry a client makes after its 409 converges on the same payment.
    const retry = await api('POST', '/v1/payments', { key: m.key, idem: 'burst-1', body });
    assert.equal(retry.body.id, ids[0]);
  });

  it('a takeover after a crashed request resumes the same payment instead of making a second', async () => {
    const m = await newMerchant();
    const first = await api('POST', '/v1/payments', { key: m.key, idem: 'crash-1', body });
    // Simulate the process dying after the payment committed but before the answer was stored.
    await h().stack.pool.query(`UPDATE idempotency_keys SET state = 'in_flight', response_status = NULL, response_body = NULL, locked_until = now() - interval '1 second' WHERE key = 'crash-1'`);
    const again = await api('POST', '/v1/payments', { key: m.key, idem: 'crash-1', body });
    assert.equal(again.status, 201);
    assert.equal(again.body.id, first.body.id);
    assert.equal((await paymentsFor(m.merchantId)).length, 1);
  });

  describe('with two API processes', () => {
    const procs: ChildProcess[] = [];
    const urls: string[] = [];

    before(async function () {
      this.timeout(90_000);
      const cfgPath = h().configPath;
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        const p = spawn(process.execPath, ['scripts/stablerail.mjs', 'api'], {
          env: { ...process.env, PORT: String(port), DATABASE_URL: h().stack.databaseUrl, TEMPORAL_ADDRESS: h().stack.temporalAddress, STABLERAIL_CONFIG: cfgPath, STABLERAIL_ADMIN_TOKEN: ADMIN_TOKEN, STABLERAIL_MASTER_KEY: h().masterKey.toString('hex'), LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        procs.push(p);
        urls.push(`http://127.0.0.1:${port}`);
      }
      for (const u of urls) await eventually(async () => (await fetch(`${u}/healthz`).catch(() => null))?.ok, 60_000, 200);
    });

    after(async () => {
      for (const p of procs) p.kill('SIGTERM');
    });

    it('50 parallel identical requests split across both processes write one payment and start one workflow', async function () {
      this.timeout(60_000);
      const m = await newMerchant();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          fetch(`${urls[i % 2]}/v1/payments`, {
            method: 'POST',
            headers: { authorization: `Bearer ${m.key}`, 'content-type': 'application/json', 'idempotency-key': 'two-procs' },
            body: JSON.stringify(body),
          }).then(async (r) => ({ status: r.status, body: await r.json() })),
        ),
      );
      for (const r of results) assert.ok(r.status === 201 || r.status === 409, `unexpected ${r.status} ${JSON.stringify(r.body)}`);
      const created = results.filter((r) => r.status === 201);
      assert.equal(new Set(created.map((r) => r.body.id)).size, 1);
      const ids = await paymentsFor(m.merchantId);
      assert.equal(ids.length, 1);
      assert.equal(await workflowCount(ids), 1);
    });
  });

  describe('an API process killed with SIGKILL mid-request', () => {
    function apiEnv(port: number, fault: string, marker: string): NodeJS.ProcessEnv {
      return {
        ...process.env, PORT: String(port), DATABASE_URL: h().stack.databaseUrl, TEMPORAL_ADDRESS: h().stack.temporalAddress, STABLERAIL_CONFIG: h().configPath,
        STABLERAIL_ADMIN_TOKEN: ADMIN_TOKEN, STABLERAIL_MASTER_KEY: h().masterKey.toString('hex'), LOG_LEVEL: 'warn',
        [`STABLERAIL_FAULT_${fault}`]: marker, STABLERAIL_FAULT_SUBJECT: '/v1/payments',
      };
    }

    async function killedMidRequest(fault: 'EXIT_AFTER_CLAIM' | 'EXIT_BEFORE_ANSWER', idem: string) {
      const marker = join(mkdtempSync(join(tmpdir(), 'fault-')), 'hit');
      const port = await freePort();
      const proc = spawn(process.execPath, ['scripts/stablerail.mjs', 'api'], { env: apiEnv(port, fault, marker), stdio: ['ignore', 'ignore', 'inherit'] });
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      const url = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${url}/healthz`).catch(() => null))?.ok, 60_000, 200);
      const m = await newMerchant();
      const res = await fetch(`${url}/v1/payments`, {
        method: 'POST', headers: { authorization: `Bearer ${m.key}`, 'content-type': 'application/json', 'idempotency-key': idem }, body: JSON.stringify(body),
      }).then(() => 'answered', (e: Error) => `connection lost: ${e.message}`);
      assert.match(res, /connection lost/, 'the client gets no answer');
      await exited; // the launcher exits when its node process is killed
      assert.ok(existsSync(marker), `the process died at ${fault}`);
      const { rows } = await h().stack.pool.query(`SELECT resource_id, state FROM idempotency_keys WHERE scope = $1 AND key = $2`, [`${m.merchantId}:sandbox`, idem]);
      assert.equal(rows[0].state, 'in_flight', 'the claim outlives the process');
      return { m, reservedId: rows[0].resource_id as string };
    }

    async function retryAfterLease(m: { merchantId: string; key: string }, idem: string) {
      // The lease (60 s) has run out, as it would for a client retrying a minute later.
      await h().stack.pool.query(`UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE scope = $1 AND key = $2`, [`${m.merchantId}:sandbox`, idem]);
      return api('POST', '/v1/payments', { key: m.key, idem, body });
    }

    it('after the claim, before Temporal: the retry creates the payment under the reserved id, once', async function () {
      this.timeout(90_000);
      const { m, reservedId } = await killedMidRequest('EXIT_AFTER_CLAIM', 'kill-after-claim');
      assert.deepEqual(await paymentsFor(m.merchantId), [], 'no row without its workflow');
      assert.equal(await workflowCount([reservedId]), 0);
      const retry = await retryAfterLease(m, 'kill-after-claim');
      assert.equal(retry.status, 201);
      assert.equal(retry.body.id, reservedId);
      assert.deepEqual(await paymentsFor(m.merchantId), [reservedId]);
      assert.equal(await workflowCount([reservedId]), 1);
    });

    it('after the workflow answered, before the answer was stored: the retry gets the same payment, one row, one workflow', async function () {
      this.timeout(90_000);
      const { m, reservedId } = await killedMidRequest('EXIT_BEFORE_ANSWER', 'kill-before-answer');
      // The workflow wrote the row before the process died.
      assert.deepEqual(await paymentsFor(m.merchantId), [reservedId]);
      const retry = await retryAfterLease(m, 'kill-before-answer');
      assert.equal(retry.status, 201);
      assert.equal(retry.body.id, reservedId);
      assert.equal(retry.body.amount, '42.00');
      assert.equal(retry.body.reference, 'inv-42');
      assert.deepEqual(await paymentsFor(m.merchantId), [reservedId]);
      assert.equal(await workflowCount([reservedId]), 1);
      const t = await h().stack.pool.query(`SELECT seq, to_status FROM payment_transitions WHERE payment_id = $1`, [reservedId]);
      assert.deepEqual(t.rows, [{ seq: 1, to_status: 'awaiting_payment' }], 'transition 1 written once');
      const e = await h().stack.pool.query(`SELECT type FROM events WHERE object_id = $1`, [reservedId]);
      assert.deepEqual(e.rows.map((r) => r.type), ['payment.created']);
      // The same workflow run answered both: one execution for this id.
      const runs: string[] = [];
      for await (const w of h().stack.client.workflow.list({ query: `WorkflowId = '${reservedId}'` })) runs.push(w.runId);
      assert.equal(runs.length, 1);
    });
  });
});
