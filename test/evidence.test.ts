import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendEvidence, verifyEvidence } from '../activities/evidence.js';
import { withTx } from '../activities/db.js';
import { randomBase62 } from '../activities/ids.js';
import { admin, api, h, newMerchant, newOperator } from './harness.js';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['scripts/stablerail.mjs', ...args], { env: { ...process.env, DATABASE_URL: h().stack.databaseUrl, STABLERAIL_CONFIG: h().configPath, STABLERAIL_DATA_DIR: h().dataDir }, encoding: 'utf8' });
}

describe('evidence log', () => {
  it('records transitions, key creation and revocation in one unbroken hash chain', async () => {
    const m = await newMerchant();
    const p = await api('POST', '/v1/payments', { key: m.key, body: { amount: '3.00', rail: 'usdt-erc20', reference: 'ev-1' } });
    await api('POST', `/v1/payments/${p.body.id}/cancel`, { key: m.key });
    await admin('POST', `/v1/admin/api_keys/${m.keyId}/revoke`, {});
    const { rows } = await h().stack.pool.query(`SELECT kind, payload FROM evidence WHERE subject IN ($1, $2) ORDER BY seq`, [m.merchantId, p.body.id]);
    assert.deepEqual(rows.map((r) => r.kind), ['merchant.created', 'api_key.created', 'payment.transition', 'payment.transition', 'api_key.revoked']);
    assert.deepEqual(rows.filter((r) => r.kind === 'payment.transition').map((r) => r.payload.to), ['awaiting_payment', 'canceled']);
    const v = await verifyEvidence(h().stack.pool);
    assert.equal(v.ok, true);
    const out = cli('evidence', 'verify');
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /evidence chain intact/);
    const pack = cli('evidence', 'export', p.body.id);
    assert.equal(pack.status, 0, pack.stderr);
    const j = JSON.parse(pack.stdout);
    assert.equal(j.payment.id, p.body.id);
    assert.equal(j.transitions.length, 2);
    assert.equal(j.temporal_history.workflow_id, p.body.id);
  });

  it('refuses UPDATE and DELETE in the database, and `stablerail evidence verify` names the first tampered row', async () => {
    const pool = h().stack.pool;
    await assert.rejects(pool.query(`UPDATE evidence SET actor = 'mallory' WHERE seq = 2`), /append-only/);
    await assert.rejects(pool.query(`DELETE FROM evidence WHERE seq = 2`), /append-only/);
    // A superuser can disable the trigger; the chain still catches the edit.
    const original = (await pool.query(`SELECT actor FROM evidence WHERE seq = 3`)).rows[0].actor;
    await pool.query('ALTER TABLE evidence DISABLE TRIGGER evidence_no_update');
    try {
      await pool.query(`UPDATE evidence SET actor = 'mallory' WHERE seq = 3`);
      const out = cli('evidence', 'verify');
      assert.equal(out.status, 1);
      assert.match(out.stdout, /BROKEN at seq 3: hash does not match/);
      assert.equal((await verifyEvidence(pool)).firstBroken?.seq, '3');
    } finally {
      // Put the row back so later tests see an intact chain.
      await pool.query(`UPDATE evidence SET actor = $1 WHERE seq = 3`, [original]);
      await pool.query('ALTER TABLE evidence ENABLE TRIGGER evidence_no_update');
    }
    assert.equal((await verifyEvidence(pool)).ok, true);
  });

  it('an entry holds the payload as JSON gives it back, so a Date, an undefined in a list or an object with toJSON never breaks the chain (an expiring operator token once did)', async () => {
    const pool = h().stack.pool;
    const op = await newOperator('viewer');
    const token = await admin('POST', `/v1/admin/operators/${op.id}/tokens`, { label: 'expiring', expires_in_s: 3600 });
    assert.equal(token.status, 201, JSON.stringify(token.body));
    const subject = 'test_' + randomBase62(12);
    const at = new Date('2026-12-02T10:00:00.123Z');
    await withTx(pool, (c) => appendEvidence(c, {
      kind: 'test.odd_payload', subject, actor: 'test', dedupeKey: `test:${subject}`,
      payload: { at, list: [1, undefined, 'x'], amount: { toJSON: () => '12.50' }, gone: undefined },
    }));
    const { rows } = await pool.query(`SELECT kind, payload FROM evidence WHERE subject IN ($1, $2) ORDER BY seq`, [op.id, subject]);
    const created = rows.find((r) => r.kind === 'operator.token_created' && r.payload.token_id === token.body.id);
    assert.equal(created?.payload.expires_at, token.body.expires_at);
    assert.deepEqual(rows.find((r) => r.kind === 'test.odd_payload')?.payload, { at: '2026-12-02T10:00:00.123Z', list: [1, null, 'x'], amount: '12.50' });
    const v = await verifyEvidence(pool);
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  });

  it('appends in flight on separate connections link one after another, and a second append of one dedupe key, waiting on the lock, finds the first once it commits', async () => {
    const pool = h().stack.pool;
    const subject = 'test_' + randomBase62(12);
    const entry = (k: string) => ({ kind: 'test.concurrent', subject, actor: 'test', payload: { k }, dedupeKey: `test:${subject}:${k}` });
    // The head is read after the lock is granted (evidence_lock_head takes a snapshot per query):
    // an append that waited reads the entry committed before it, never the head it would have seen.
    const first = await pool.connect();
    const second = await pool.connect();
    try {
      await first.query('BEGIN');
      const a = await appendEvidence(first, entry('same'));
      await second.query('BEGIN');
      const pid = (await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      let waited = false;
      const b = appendEvidence(second, entry('same')).then((r) => { waited = true; return r; });
      // The second append is blocked on the lock while the first transaction is open: wait until
      // PostgreSQL shows its backend waiting for the advisory lock.
      for (let i = 0; ; i++) {
        const { rows } = await pool.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = $1`, [pid]);
        if (rows.length) break;
        assert.ok(i < 200, 'the second append never waited on the lock');
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.equal(waited, false);
      await first.query('COMMIT');
      const again = await b;
      await second.query('COMMIT');
      assert.deepEqual(again, { seq: a.seq, hash: a.hash, inserted: false });
    } finally {
      first.release();
      second.release();
    }
    const many = await Promise.all(Array.from({ length: 12 }, (_, i) => withTx(pool, (c) => appendEvidence(c, entry(`n${i}`)))));
    assert.equal(new Set(many.map((r) => r.seq)).size, 12);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM evidence WHERE subject = $1`, [subject]);
    assert.equal(rows[0].n, 13);
    const v = await verifyEvidence(pool);
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  });
});
