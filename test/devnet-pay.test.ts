// `stablerail devnet pay` as a newcomer runs it, on both devnet rails (the EVM devnet and the
// TRON stand-in): a real transfer from dev.json's payer, printed, then followed to `recognized`
// while the test stages the blocks (interval mining is off in the suite). Also the refusals, and
// the Simulate route's absence where no devnet runs (live).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { api, eventually, h, newMerchant } from './harness.js';
import { mine, rpc, watcherCaughtUp } from './chain-helpers.js';
import { TRON_STANDIN_USDT } from '../scripts/devnet-rails.js';
import { createApp } from '../api/app.js';
import { createLogger } from '../api/logger.js';
import { createMetrics } from '../api/metrics.js';
import { parseConfig } from '../activities/config.js';
import { payerAddressOn } from '../activities/chain/devnet-payer.js';

interface Run {
  proc: ChildProcess;
  out: () => string;
  exited: Promise<number>;
}

describe('stablerail devnet pay', function () {
  this.timeout(120_000);
  const runs: ChildProcess[] = [];
  let dataDir: string;
  let merchant: { merchantId: string; key: string };

  before(async () => {
    merchant = await newMerchant({ name: 'Devnet pay merchant' });
    dataDir = mkdtempSync(join(tmpdir(), 'stablerail-devnet-pay-'));
    chmodSync(dataDir, 0o700);
    // What `npm start` writes for a newcomer, pointing at the suite's stack.
    writeFileSync(join(dataDir, 'dev.json'), JSON.stringify({ api_url: h().stack.apiUrl, secret_key: merchant.key, payer_private_key: h().stack.devnet!.payerPrivateKey }));
  });
  afterEach(() => {
    for (const p of runs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });

  function cli(args: string[], env: Record<string, string> = {}): Run {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', ...args], {
      env: { ...process.env, STABLERAIL_DATA_DIR: dataDir, STABLERAIL_CONFIG: h().configPath, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    runs.push(proc);
    let out = '';
    proc.stdout!.on('data', (d) => (out += d.toString()));
    proc.stderr!.on('data', (d) => (out += d.toString()));
    const exited = new Promise<number>((res) => proc.once('exit', (code) => res(code ?? -1)));
    return { proc, out: () => out, exited };
  }

  async function create(amount: string, rail: string) {
    const r = await api('POST', '/v1/payments', { key: merchant.key, body: { amount, rail, reference: `devnet-pay-${Math.random().toString(36).slice(2)}` } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { id: string; public_id: string; deposit_address: string };
  }

  /** Reconciliation matches the planes; the suite runs it by hand (no Schedule in tests). */
  async function reconcileUntilExit(run: Run): Promise<number> {
    let code: number | null = null;
    void run.exited.then((c) => (code = c));
    await eventually(async () => {
      if (code !== null) return true;
      await api('POST', '/v1/reconciliation/runs', { key: merchant.key, body: { grace_s: 0 } });
      await new Promise((r) => setTimeout(r, 500));
      return code !== null;
    }, 60_000, 200);
    return code!;
  }

  it('pays an EVM devnet payment by its pay_ id from the funded payer, prints the transaction and follows it to recognized', async () => {
    await watcherCaughtUp();
    const p = await create('12.34', 'usdt-erc20');
    const run = cli(['devnet', 'pay', p.id]);
    await eventually(async () => /tx\s+0x[0-9a-f]{64}/.test(run.out()), 60_000, 100);
    const txHash = /tx\s+(0x[0-9a-f]{64})/.exec(run.out())![1]!;
    const receipt = await rpc('eth_getTransactionReceipt', [txHash]);
    assert.equal(receipt.status, '0x1');
    assert.equal(receipt.from.toLowerCase(), h().stack.devnet!.payerAddress.toLowerCase(), 'paid from dev.json payer');
    assert.equal(('0x' + receipt.logs[0].topics[2].slice(26)).toLowerCase(), p.deposit_address.toLowerCase());
    assert.equal(BigInt(receipt.logs[0].data), 12_340_000n);
    await eventually(async () => run.out().includes('detected'), 20_000, 100);
    await mine(6); // confirmations (3) and finality (6)
    assert.equal(await reconcileUntilExit(run), 0, run.out());
    assert.match(run.out(), /paid 12\.34 USDT on usdt-erc20/);
    assert.match(run.out(), /recognized, received 12\.34 USDT/);
    assert.match(run.out(), new RegExp(`page\\s+${h().stack.apiUrl}/pay/${p.public_id}`));
  });

  it('pays a TRON stand-in payment by its pub_ id with --amount, a real TRC20 transfer signed by the payer, and follows it to recognized', async () => {
    const standin = h().stack.tronStandin!;
    await eventually(async () => (await h().stack.pool.query(`SELECT 1 FROM chain_cursors WHERE rail = 'usdt-trc20'`)).rowCount === 1, 20_000);
    const p = await create('7.00', 'usdt-trc20');
    const payerTron = payerAddressOn(h().config.rails.find((r) => r.id === 'usdt-trc20')!, h().stack.devnet!.payerPrivateKey);
    const before = standin.tokenBalance(TRON_STANDIN_USDT, payerTron);
    const run = cli(['devnet', 'pay', p.public_id, '--amount', '7']);
    await eventually(async () => /tx\s+0x[0-9a-f]{64}/.test(run.out()), 60_000, 100);
    assert.match(run.out(), new RegExp(`from\\s+${payerTron}`));
    assert.equal(standin.tokenBalance(TRON_STANDIN_USDT, p.deposit_address), 7_000_000n);
    assert.equal(before - standin.tokenBalance(TRON_STANDIN_USDT, payerTron), 7_000_000n, 'the payer was debited: a real transfer, not a credit from outside');
    await eventually(async () => run.out().includes('detected'), 20_000, 100);
    standin.mine(20); // confirmations (3) and the solidified block (19 deep)
    assert.equal(await reconcileUntilExit(run), 0, run.out());
    assert.match(run.out(), /paid 7\.00 USDT on usdt-trc20/);
    assert.match(run.out(), /recognized, received 7\.00 USDT/);
  });

  it('--from-third-party pays from a fresh address the payer funds first', async () => {
    await watcherCaughtUp();
    const p = await create('3.00', 'usdt-erc20');
    const run = cli(['devnet', 'pay', p.id, '--from-third-party', '--no-follow']);
    assert.equal(await run.exited, 0, run.out());
    const txHash = /tx\s+(0x[0-9a-f]{64})/.exec(run.out())![1]!;
    const receipt = await rpc('eth_getTransactionReceipt', [txHash]);
    assert.notEqual(receipt.from.toLowerCase(), h().stack.devnet!.payerAddress.toLowerCase());
    assert.equal(('0x' + receipt.logs[0].topics[2].slice(26)).toLowerCase(), p.deposit_address.toLowerCase());
    const seen = await eventually(async () => {
      const r = await api('GET', `/v1/payments/${p.id}`, { key: merchant.key });
      return r.body.status === 'detected' ? r.body : null;
    }, 20_000);
    assert.equal(seen.amount_received, '3.00');
  });

  it('stops following after --follow-s with the status it last saw, exit 0, the payment going on', async () => {
    await watcherCaughtUp();
    const p = await create('5.00', 'usdt-erc20');
    // A part payment inside the window: detected, and nothing final happens by itself.
    const run = cli(['devnet', 'pay', p.id, '--amount', '1', '--follow-s', '3']);
    assert.equal(await run.exited, 0, run.out());
    assert.match(run.out(), /stopped following after 3 s, still (awaiting_payment|detected)/);
    const after = await eventually(async () => {
      const r = await api('GET', `/v1/payments/${p.id}`, { key: merchant.key });
      return r.body.status === 'detected' ? r.body : null;
    }, 20_000);
    assert.equal(after.amount_received, '1.00', 'paid once, and the payment goes on');
    const bad = cli(['devnet', 'pay', p.id, '--follow-s', 'soon']);
    assert.equal(await bad.exited, 2, bad.out());
    assert.match(bad.out(), /--follow-s must be a number of seconds/);
  });

  it('refuses, with a clear message and exit 2, a rail that is not a devnet rail, an unknown payment and a malformed id', async () => {
    const p = await create('1.00', 'usdt-erc20');
    // The same rails, configured as if they were real networks (no devnet flag).
    const cfg = JSON.parse(readFileSync(h().configPath, 'utf8'));
    for (const r of cfg.rails) delete r.devnet;
    const realConfig = join(dataDir, 'real-rails.json');
    writeFileSync(realConfig, JSON.stringify(cfg));
    const notDevnet = cli(['devnet', 'pay', p.id], { STABLERAIL_CONFIG: realConfig });
    assert.equal(await notDevnet.exited, 2);
    assert.match(notDevnet.out(), /rail usdt-erc20, which is not a devnet rail: pay it from a real wallet/);
    const unknown = cli(['devnet', 'pay', 'pay_AAAAAAAAAAAAAAAAAAAAAAAA']);
    assert.equal(await unknown.exited, 2);
    assert.match(unknown.out(), /no payment pay_A+ for this key: a pay_… id is read with the key of the merchant that made it \(give the payment's pub_… id/);
    const malformed = cli(['devnet', 'pay', 'order-1']);
    assert.equal(await malformed.exited, 2);
    assert.match(malformed.out(), /neither a payment id/);
    const after = await api('GET', `/v1/payments/${p.id}`, { key: merchant.key });
    assert.equal(after.body.amount_received, '0.00', 'nothing was paid');
  });
});

describe('Simulate payment route', function () {
  this.timeout(60_000);

  it('does not exist in a process without the devnet (live): 404 route_unknown, and /openapi.json does not list it', async () => {
    const liveConfig = parseConfig({
      base_url: 'http://127.0.0.1:0',
      rails: h().config.rails.map((r) => ({ ...r, devnet: undefined, environments: ['live'] })),
    }, { base_url: 'http://127.0.0.1:0' });
    const { stack } = h();
    const sink = new Writable({ write(_c, _e, cb) { cb(); } });
    const app = createApp({ pool: stack.pool, config: liveConfig, temporal: stack.client, metrics: createMetrics(stack.pool), masterKey: h().masterKey }, createLogger(sink, 'error'));
    const server = await new Promise<import('node:http').Server>((res) => { const s = app.listen(0, '127.0.0.1', () => res(s)); });
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const r = await fetch(`${url}/v1/public/payments/pub_AAAAAAAAAAAAAAAAAAAAAAAA/simulate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"outcome":"exact"}' });
      assert.equal(r.status, 404);
      assert.equal((await r.json()).error.code, 'route_unknown');
      const spec = await (await fetch(`${url}/openapi.json`)).json();
      assert.ok(!('/v1/public/payments/{public_id}/simulate' in spec.paths));
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    // Where the devnet runs, it is listed.
    const spec = (await api('GET', '/openapi.json')).body;
    assert.ok('/v1/public/payments/{public_id}/simulate' in spec.paths);
  });

  it('underpays and overpays on request, refuses bad input with a typed 400 and pays nothing then', async () => {
    await watcherCaughtUp();
    const m = await newMerchant();
    const under = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '10.00', rail: 'usdt-erc20', reference: 'sim-under' } })).body;
    const bad = await api('POST', `/v1/public/payments/${under.public_id}/simulate`, { body: { outcome: 'exact', amount: '1' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'parameter_conflict');
    const unknown = await api('POST', `/v1/public/payments/${under.public_id}/simulate`, { body: { outcome: 'twice' } });
    assert.equal(unknown.status, 400);
    const precise = await api('POST', `/v1/public/payments/${under.public_id}/simulate`, { body: { amount: '1.0000001' } });
    assert.equal(precise.status, 400);
    assert.equal(precise.body.error.code, 'amount_too_precise');
    assert.equal((await api('POST', '/v1/public/payments/pub_AAAAAAAAAAAAAAAAAAAAAAAA/simulate', { body: {} })).status, 404);
    const u = await api('POST', `/v1/public/payments/${under.public_id}/simulate`, { body: { outcome: 'underpay' } });
    assert.equal(u.status, 200, JSON.stringify(u.body));
    assert.equal(u.body.amount, '9.00');
    const over = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '10.00', rail: 'usdt-erc20', reference: 'sim-over' } })).body;
    const o = await api('POST', `/v1/public/payments/${over.public_id}/simulate`, { body: { outcome: 'overpay' } });
    assert.equal(o.body.amount, '11.00');
    await mine(3);
    const statusOf = async (id: string) => (await api('GET', `/v1/payments/${id}`, { key: m.key })).body;
    const uu = await eventually(async () => { const x = await statusOf(under.id); return x.exception?.code === 'underpaid' || x.status === 'detected' ? x : null; }, 20_000);
    assert.equal(uu.amount_received, '9.00');
    const oo = await eventually(async () => { const x = await statusOf(over.id); return x.status === 'requires_review' ? x : null; }, 20_000);
    assert.equal(oo.exception.code, 'overpaid');
    assert.equal(oo.amount_received, '11.00');
  });
});
