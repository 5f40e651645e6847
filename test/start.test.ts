// `npm start` as a newcomer runs it: a fresh data directory, then a restart that reuses it,
// then a crash (SIGKILL) whose orphaned servers the next start finds and stops.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../scripts/embedded/temporal.js';
import { eventually } from './harness.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Until the launcher answers /readyz, or a clear failure: one that exited is reported at once
 * with what it said, one still starting at the deadline with its last words (a bare timeout,
 * as a CI run once gave, says nothing about why).
 */
async function waitReady(port: number, proc: ChildProcess, said: () => string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200) return;
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`npm start exited (${proc.exitCode ?? proc.signalCode}) before ready:\n${said()}`);
    if (Date.now() > deadline) throw new Error(`npm start not ready in ${timeoutMs / 1000} s; its output so far:\n${said()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('npm start (the launcher)', function () {
  this.timeout(240_000);
  const root = mkdtempSync(join(tmpdir(), 'stablerail-start-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  let port: number;
  let temporalPort: number;
  let devnetPort: number;

  async function start(): Promise<{ proc: ChildProcess; dev: any; printed: () => string }> {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      env: { ...process.env, PORT: String(port), STABLERAIL_TEMPORAL_PORT: String(temporalPort), STABLERAIL_DEVNET_PORT: String(devnetPort), STABLERAIL_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d) => (out += d.toString()));
    proc.stderr!.on('data', (d) => (err = (err + d.toString()).slice(-4000)));
    await waitReady(port, proc, () => `${err}\n${out.slice(-2000)}`);
    // The banner is written right after dev.json; give it a moment to arrive.
    await eventually(async () => out.includes('Stablerail is running'), 10_000, 50);
    return { proc, dev: JSON.parse(readFileSync(join(dataDir, 'dev.json'), 'utf8')), printed: () => out };
  }

  async function whoAmI(token: string) {
    const r = await fetch(`http://127.0.0.1:${port}/v1/admin/operators/me`, { headers: { authorization: `Bearer ${token}` } });
    return { status: r.status, body: await r.json() };
  }

  before(async () => {
    port = await freePort();
    temporalPort = await freePort();
    // The TRON stand-in listens on the devnet's port + 1: both must be free.
    for (devnetPort = await freePort(); (await freePort(devnetPort + 1)) !== devnetPort + 1; devnetPort = await freePort());
  });

  it('runs on a fresh data directory, writes dev.json with a working key, and reuses it all on restart', async () => {
    const first = await start();
    const dev = first.dev;
    for (const f of ['base_url', 'admin_token', 'admin_operator_id', 'merchant_id', 'secret_key', 'temporal', 'rails']) assert.ok(f in dev, f);
    assert.match(dev.secret_key, /^sk_test_/);
    // The first admin operator, created on this fresh data directory: admin_token is their personal token.
    assert.match(dev.admin_token, /^opk_/);
    const me = await whoAmI(dev.admin_token);
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.id, dev.admin_operator_id);
    assert.equal(me.body.role, 'admin');
    // A local, sandbox-only first run may print its keys; they are in dev.json either way.
    assert.ok(first.printed().includes(dev.secret_key), 'the first run shows the newcomer their key');
    assert.ok(dev.temporal.ui_url);
    assert.equal(dev.temporal.namespace, 'stablerail');
    const r = await fetch(`http://127.0.0.1:${port}/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dev.secret_key}`, 'content-type': 'application/json', 'idempotency-key': 'start-1' },
      body: JSON.stringify({ amount: '1.00', rail: 'usdt-erc20', reference: 'start-1' }),
    });
    assert.equal(r.status, 201);
    const pay = await r.json();
    const ui = await fetch(dev.temporal.ui_url);
    assert.equal(ui.status, 200, 'the Temporal UI answers');
    first.proc.kill('SIGINT');
    await new Promise((res) => first.proc.once('exit', res));
    // PostgreSQL's own shutdown (a checkpoint) may finish just after the launcher exits.
    await eventually(async () => !existsSync(join(dataDir, 'pg', 'postmaster.pid')), 20_000, 100);

    const second = await start();
    assert.equal(second.dev.merchant_id, dev.merchant_id);
    assert.equal(second.dev.secret_key, dev.secret_key);
    assert.equal(second.dev.admin_token, dev.admin_token, 'no second admin is made');
    assert.equal((await whoAmI(second.dev.admin_token)).body.id, dev.admin_operator_id);
    // Later runs print the path and the handles, never the secrets.
    for (const secret of [dev.secret_key, dev.admin_token, dev.payer_private_key, dev.database_url]) {
      assert.ok(!second.printed().includes(secret), 'a restart prints no secret');
    }
    assert.ok(second.printed().includes(join(dataDir, 'dev.json')));
    const again = await fetch(`http://127.0.0.1:${port}/v1/payments/${pay.id}`, { headers: { authorization: `Bearer ${dev.secret_key}` } });
    assert.equal(again.status, 200, 'the payment survived the restart');
    // Crash: the servers it started are orphaned; the next start must stop them and come up.
    second.proc.kill('SIGKILL');
    await new Promise((res) => second.proc.once('exit', res));
    const pgPid = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    assert.ok(alive(pgPid), 'an orphaned PostgreSQL is left by the crash');
    const third = await start();
    assert.ok(!alive(pgPid), 'the orphan was stopped');
    const st = await fetch(`http://127.0.0.1:${port}/v1/payments/${pay.id}`, { headers: { authorization: `Bearer ${dev.secret_key}` } });
    assert.equal(st.status, 200);
    // A second npm start on the running data directory: refused before it touches anything (it
    // would have taken the running launcher's devnet for a crash's orphan and stopped it).
    const twin = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      env: { ...process.env, PORT: String(port), STABLERAIL_TEMPORAL_PORT: String(temporalPort), STABLERAIL_DEVNET_PORT: String(devnetPort), STABLERAIL_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let twinErr = '';
    twin.stderr!.on('data', (d) => (twinErr += d.toString()));
    const twinCode = await new Promise((res) => twin.once('exit', res));
    assert.equal(twinCode, 1, twinErr);
    assert.match(twinErr, new RegExp(`^npm start: another npm start \\(pid ${third.proc.pid}\\) is running on ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.ok(!twinErr.includes('    at '), 'no stack trace');
    const block = await fetch(`http://127.0.0.1:${devnetPort}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }) });
    assert.equal(block.status, 200, 'the running devnet was left alone');
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    third.proc.kill('SIGTERM');
    await new Promise((res) => third.proc.once('exit', res));
    assert.ok(!existsSync(join(dataDir, 'launcher.pid')), 'a clean stop releases the data directory');
  });

  const groups: ChildProcess[] = [];
  // A launcher a failed test left behind, and everything in its group, must not outlive the test.
  afterEach(() => {
    for (const p of groups.splice(0)) {
      if (p.exitCode === null && p.signalCode === null) {
        try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  });

  /** The launcher in its own process group, as a terminal runs it (Ctrl-C signals the whole group). */
  function startInGroup(env: Record<string, string>): { proc: ChildProcess; exit: Promise<number | null>; err: () => string } {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      env: { ...process.env, PORT: String(port), STABLERAIL_TEMPORAL_PORT: String(temporalPort), STABLERAIL_DEVNET_PORT: String(devnetPort), LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'], detached: true,
    });
    groups.push(proc);
    let err = '';
    proc.stderr!.on('data', (d) => (err += d.toString()));
    return { proc, exit: new Promise((r) => proc.once('exit', (code) => r(code))), err: () => err };
  }
  const ready = (started: { proc: ChildProcess; err: () => string }) => waitReady(port, started.proc, () => started.err().slice(-4000));

  it('as root in a checkout under a 0700 directory: comes up (the cluster lives where postgres can reach), Ctrl-C to the group leaves no pid file, and a pid file naming another process is left alone', async function () {
    const closed = mkdtempSync(join(tmpdir(), 'stablerail-closed-'));
    chmodSync(closed, 0o700);
    const checkoutData = join(closed, 'checkout', '.stablerail');
    const pgRoot = mkdtempSync(join(tmpdir(), 'stablerail-pgroot-'));
    chmodSync(pgRoot, 0o755);
    const env = { STABLERAIL_DATA_DIR: checkoutData, STABLERAIL_PG_DIR: pgRoot };
    const stray: ChildProcess[] = [];
    try {
      const first = startInGroup(env);
      await ready(first);
      const cluster = readFileSync(join(checkoutData, 'pg-location'), 'utf8').trim();
      assert.ok(cluster.startsWith(pgRoot), `the cluster was placed under STABLERAIL_PG_DIR: ${cluster}`);
      assert.ok(existsSync(join(cluster, 'postmaster.pid')), 'PostgreSQL runs from there');
      assert.ok(existsSync(join(checkoutData, 'devnet-state.json.pid')) && existsSync(join(checkoutData, 'temporal.db.pid')), 'the servers it started are recorded');
      process.kill(-first.proc.pid!, 'SIGINT');
      assert.equal(await first.exit, 0, first.err().slice(-2000));
      assert.deepEqual(readdirSync(checkoutData).filter((f) => f.endsWith('.pid')), [], 'no pid file outlives a stop by Ctrl-C');
      await eventually(async () => !existsSync(join(cluster, 'postmaster.pid')), 20_000, 100);

      // A pid file whose pid now belongs to someone else (here: a sleep of ours) must not get it killed.
      const bystander = spawn('sleep', ['600'], { stdio: 'ignore' });
      stray.push(bystander);
      writeFileSync(join(checkoutData, 'devnet-state.json.pid'), JSON.stringify({ pid: bystander.pid, args: ['--host', '127.0.0.1', '--port', String(devnetPort)] }));
      writeFileSync(join(checkoutData, 'temporal.db.pid'), String(bystander.pid)); // an older bare-pid file
      const second = startInGroup(env);
      await ready(second);
      assert.ok(alive(bystander.pid!), 'the process that reused the pid is alive');
      assert.equal(readFileSync(join(checkoutData, 'pg-location'), 'utf8').trim(), cluster, 'a restart finds the same cluster');
      process.kill(-second.proc.pid!, 'SIGTERM');
      assert.equal(await second.exit, 0, second.err().slice(-2000));
      assert.deepEqual(readdirSync(checkoutData).filter((f) => f.endsWith('.pid')), []);
      await eventually(async () => !existsSync(join(cluster, 'postmaster.pid')), 20_000, 100);
    } finally {
      for (const p of stray) p.kill('SIGKILL');
    }
  });

  it('where the cluster cannot be placed either, exits 1 with what to change and no stack trace', async function () {
    const closed = mkdtempSync(join(tmpdir(), 'stablerail-closed-'));
    chmodSync(closed, 0o700);
    mkdirSync(join(closed, 'pg'));
    const run = startInGroup({ STABLERAIL_DATA_DIR: join(closed, 'checkout', '.stablerail'), STABLERAIL_PG_DIR: join(closed, 'pg') });
    assert.equal(await run.exit, 1);
    assert.match(run.err(), /cannot enter .*stablerail-closed-/);
    assert.match(run.err(), /STABLERAIL_PG_DIR/);
    assert.doesNotMatch(run.err(), /^\s+at /m, 'no stack trace');
    assert.deepEqual(readdirSync(join(closed, 'checkout', '.stablerail')).filter((f) => f.endsWith('.pid')), [], 'what it started before failing is stopped and forgotten');
  });

  it('with the TRON stand-in\'s port (the devnet\'s + 1) taken, exits 1 naming the port and the setting, with no stack trace and no devnet left running', async function () {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(devnetPort + 1, '127.0.0.1', () => resolve()));
    try {
      const data = mkdtempSync(join(tmpdir(), 'stablerail-tronport-'));
      chmodSync(data, 0o755);
      const run = startInGroup({ STABLERAIL_DATA_DIR: join(data, '.stablerail') });
      assert.equal(await run.exit, 1, run.err().slice(-2000));
      assert.match(run.err(), new RegExp(`TRON stand-in port ${devnetPort + 1} .*is in use`));
      assert.match(run.err(), /STABLERAIL_DEVNET_PORT/);
      assert.doesNotMatch(run.err(), /^\s+at /m, 'no stack trace');
      // The devnet started before the stand-in: it is stopped with the launcher, its pid file gone.
      assert.deepEqual(readdirSync(join(data, '.stablerail')).filter((f) => f.endsWith('.pid')), [], 'what it started before failing is stopped and forgotten');
      await eventually(async () => (await freePort(devnetPort)) === devnetPort, 10_000, 100);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });
});
