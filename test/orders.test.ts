import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, h, newMerchant } from './harness.js';

// The CLI calls the API served by this very process: run it without blocking the event loop.
function cli(args: string[], key: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/stablerail.mjs', ...args], { env: { ...process.env, STABLERAIL_API_URL: h().stack.apiUrl, STABLERAIL_KEY: key } }, (err, stdout, stderr) => {
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('orders (commerce truth)', () => {
  it('records orders over the API, upserting by reference, and refuses bad ones with typed errors', async () => {
    const m = await newMerchant();
    const a = await api('POST', '/v1/orders', { key: m.key, body: { reference: 'o-1', amount: '10.50', asset: 'USDT' } });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.equal(a.body.status, 'open');
    const b = await api('POST', '/v1/orders', { key: m.key, body: { reference: 'o-1', amount: '10.50', asset: 'USDT', status: 'fulfilled' } });
    assert.equal(b.body.id, a.body.id);
    assert.equal(b.body.status, 'fulfilled');
    assert.equal((await api('POST', '/v1/orders', { key: m.key, body: { reference: 'o-2', amount: '1', asset: 'DOGE' } })).body.error.code, 'asset_unknown');
    assert.equal((await api('POST', '/v1/orders', { key: m.key, body: { reference: 'o-2', amount: '1.1234567', asset: 'USDT' } })).body.error.code, 'amount_too_precise');
    const shipped = await api('POST', '/v1/orders', { key: m.key, body: { reference: 'o-2', amount: '1', asset: 'USDT', status: 'shipped' } });
    assert.equal(shipped.status, 400);
    assert.equal(shipped.body.error.code, 'parameter_invalid', JSON.stringify(shipped.body));
    assert.equal(shipped.body.error.param, 'status');
    const list = await api('GET', '/v1/orders', { key: m.key });
    assert.equal(list.body.data.length, 1);
  });

  it('imports a CSV through `stablerail orders import` with progress, and a re-run converges', async () => {
    const m = await newMerchant();
    const rows = ['reference,amount,asset,status'];
    for (let i = 0; i < 2500; i++) rows.push(`csv-${i},${(i % 97) + 1}.25,USDT,${i % 10 === 0 ? 'fulfilled' : ''}`);
    rows.push('"quoted, ref",3.00,USDT,canceled');
    const file = join(h().dataDir, 'orders.csv');
    writeFileSync(file, rows.join('\n') + '\n');
    const run = () => cli(['orders', 'import', file], m.key);
    const first = await run();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /2501\/2501 orders/);
    assert.match(first.stdout, /imported 2501 orders \(2501 new or changed\)/);
    const second = await run();
    assert.equal(second.status, 0, second.stderr);
    const { rows: n } = await h().stack.pool.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'fulfilled')::int AS f FROM orders WHERE merchant_id = $1`, [m.merchantId]);
    assert.equal(n[0].n, 2501);
    assert.equal(n[0].f, 250);
    const q = await api('GET', `/v1/orders?reference=${encodeURIComponent('quoted, ref')}`, { key: m.key });
    assert.equal(q.body.data[0].status, 'canceled');
  });

  it('refuses a CSV with a bad line and imports nothing', async () => {
    const m = await newMerchant();
    const file = join(h().dataDir, 'bad-orders.csv');
    writeFileSync(file, 'reference,amount,asset,status\nok-1,1.00,USDT,open\nbad-1,1.00,USDT,lost\n');
    const r = await cli(['orders', 'import', file], m.key);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 3: status "lost"/);
    const { rows } = await h().stack.pool.query(`SELECT count(*)::int AS n FROM orders WHERE merchant_id = $1`, [m.merchantId]);
    assert.equal(rows[0].n, 0);
  });
});
