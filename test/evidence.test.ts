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
});
