// `stablerail secrets rotate-master-key`: every sealed secret (webhook signing secrets, TOTP seeds)
// moves to the new key in one transaction; the old key opens none of them afterwards. The test
// rotates back at the end, since the suite's running processes hold the original key.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, h, newMerchant, newOperator } from './harness.js';
import { openSecret } from '../activities/webhooks/secret-box.js';

function rotate(currentHex: string, nextFile: string) {
  const r = spawnSync(process.execPath, ['scripts/stablerail.mjs', 'secrets', 'rotate-master-key', '--new-key-file', nextFile], {
    env: { ...process.env, DATABASE_URL: h().stack.databaseUrl, STABLERAIL_MASTER_KEY: currentHex },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function sealed() {
  const w = await h().stack.pool.query(`SELECT endpoint_id AS bound, secret_ciphertext AS ct FROM webhook_secrets`);
  const t = await h().stack.pool.query(`SELECT 'totp:' || id AS bound, totp_secret_sealed AS ct FROM operators WHERE totp_secret_sealed IS NOT NULL`);
  return [...w.rows, ...t.rows] as Array<{ bound: string; ct: string }>;
}

const opens = (key: Buffer, s: { bound: string; ct: string }) => {
  try {
    openSecret(key, s.ct, s.bound);
    return true;
  } catch {
    return false;
  }
};

describe('stablerail secrets rotate-master-key', function () {
  this.timeout(60_000);

  it('re-seals every webhook secret and TOTP seed with the new key in one transaction, and the old key opens none of them', async () => {
    const m = await newMerchant();
    const ep = await api('POST', '/v1/webhook_endpoints', { key: m.key, body: { url: 'http://127.0.0.1:9/hook' } });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    const op = await newOperator('approver', 'rotation');
    assert.equal((await op.call('POST', '/v1/admin/operators/me/totp')).status, 200);
    const original = h().masterKey;
    const before = await sealed();
    assert.ok(before.length >= 2 && before.every((s) => opens(original, s)));

    const dir = mkdtempSync(join(tmpdir(), 'mk-'));
    const nextFile = join(dir, 'next');
    const out = rotate(original.toString('hex'), nextFile);
    assert.equal(out.rotated, true);
    assert.ok(out.webhook_secrets >= 1 && out.totp_seeds >= 1);
    const next = Buffer.from((await import('node:fs')).readFileSync(nextFile, 'utf8').trim(), 'hex');
    const after = await sealed();
    assert.equal(after.length, before.length);
    assert.ok(after.every((s) => opens(next, s)), 'every secret opens with the new key');
    assert.ok(after.every((s) => !opens(original, s)), 'none opens with the old one');
    const ev = await h().stack.pool.query(`SELECT payload FROM evidence WHERE kind = 'secrets.master_key_rotated' ORDER BY seq DESC LIMIT 1`);
    assert.equal(ev.rows[0].payload.to, out.to);

    // Back to the suite's key (the running API and workers hold it).
    const originalFile = join(dir, 'original');
    writeFileSync(originalFile, original.toString('hex'));
    rotate(next.toString('hex'), originalFile);
    assert.ok((await sealed()).every((s) => opens(original, s)));
  });
});
