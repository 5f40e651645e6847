// The README's first minute, run exactly as written: the shell blocks between the
// `first-minute` markers of README.md, in order, on a fresh data directory. Only the ports and
// the data directory are swapped for the test's own (a developer's `npm start` may hold 8080).
// It prints the seconds from `npm start` to `recognized`; the assertion is that every step
// happens (a verified webhook, the ledger lines, the Temporal UI page), not a time limit.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../scripts/embedded/temporal.js';
import { eventually } from './harness.js';

/** The sh blocks between <!-- first-minute:start --> and <!-- first-minute:end -->, in order. */
export function firstMinuteBlocks(readme: string): string[] {
  const start = readme.indexOf('<!-- first-minute:start -->');
  const end = readme.indexOf('<!-- first-minute:end -->');
  if (start < 0 || end < start) throw new Error('README.md has no first-minute markers');
  return [...readme.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

interface Shell {
  proc: ChildProcess;
  /** Each output chunk with the time it arrived. */
  chunks: Array<{ at: number; text: string }>;
  out: () => string;
  exited: Promise<number>;
}

describe('the README first minute (launcher test)', function () {
  this.timeout(600_000);
  const root = mkdtempSync(join(tmpdir(), 'stablerail-first-minute-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  const shells: Shell[] = [];
  let env: Record<string, string>;
  let port: number;

  function sh(script: string): Shell {
    // Its own process group, so the whole tree (npm, node, servers) gets the signal at the end.
    const proc = spawn('bash', ['-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const chunks: Shell['chunks'] = [];
    const take = (d: Buffer) => chunks.push({ at: Date.now(), text: d.toString() });
    proc.stdout!.on('data', take);
    proc.stderr!.on('data', take);
    const exited = new Promise<number>((res) => proc.once('exit', (code, signal) => res(code ?? (signal ? 128 : -1))));
    const s = { proc, chunks, out: () => chunks.map((c) => c.text).join(''), exited };
    shells.push(s);
    return s;
  }
  async function stop(s: Shell, signal: NodeJS.Signals = 'SIGINT') {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
    try {
      process.kill(-s.proc.pid!, signal);
    } catch { /* already gone */ }
    const t = setTimeout(() => { try { process.kill(-s.proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, 60_000);
    await s.exited;
    clearTimeout(t);
  }

  /** A free port whose next one is free too: the devnet's and the TRON stand-in's (and Temporal's and its UI's). */
  async function freePair(): Promise<number> {
    for (let i = 0; i < 50; i++) {
      const p = await freePort();
      if ((await freePort(p + 1)) === p + 1) return p;
    }
    throw new Error('no two adjacent free ports');
  }

  before(async () => {
    port = await freePort();
    env = {
      PORT: String(port),
      STABLERAIL_DEVNET_PORT: String(await freePair()),
      STABLERAIL_TEMPORAL_PORT: String(await freePair()),
      STABLERAIL_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    };
    delete process.env.STABLERAIL_DEVNET_BLOCK_TIME; // the newcomer's default: blocks every 2 s
  });
  after(async function () {
    this.timeout(120_000);
    // The listener first (it disables its endpoint through the API), then the rest, npm start last.
    for (const s of [...shells].reverse()) await stop(s);
    await eventually(async () => !existsSync(join(dataDir, 'pg', 'postmaster.pid')), 30_000, 200).catch(() => undefined);
  });

  it('npm start, webhooks listen, create, devnet pay to recognized, ledger lines and the Temporal UI: every step happens on a fresh data directory', async () => {
    const blocks = firstMinuteBlocks(readFileSync('README.md', 'utf8')).map((b) => b
      .replaceAll('./.stablerail/', `${dataDir}/`)
      .replaceAll('localhost:8080', `127.0.0.1:${port}`));
    assert.equal(blocks.length, 4, 'npm start, webhooks listen, create and pay, ledger and UI');
    assert.equal(blocks[0], 'npm start');

    const t0 = Date.now();
    const start = sh(blocks[0]!);
    await eventually(async () => {
      if (start.proc.exitCode !== null) throw new Error(`npm start exited (${start.proc.exitCode})`);
      return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200;
    }, 300_000, 300)
      .catch((err) => { throw new Error(`${(err as Error).message}; npm start said: ${start.out().slice(-3000)}`); });
    const readyS = (Date.now() - t0) / 1000;
    assert.ok(existsSync(join(dataDir, 'dev.json')));

    const listen = sh(blocks[1]!);
    await eventually(async () => /listening on http:\/\/127\.0\.0\.1:\d+\/webhooks as we_/.test(listen.out()), 60_000, 100);

    // Blocks 3 and 4 share the shell's variables (KEY, PAY), as in one terminal.
    const pay = sh(`set -e\n${blocks[2]}\n${blocks[3]}`);
    const code = await pay.exited;
    assert.equal(code, 0, pay.out());
    const out = pay.out();
    assert.match(out, /paid 12\.34 USDT on usdt-erc20/);
    for (const s of ['detected', 'confirmed', 'recognized']) assert.match(out, new RegExp(`\\s${s}, received`), `followed through ${s}`);
    const recognizedAt = pay.chunks.find((c) => /\srecognized, received/.test(c.text))!.at;
    const payId = /workflows\/(pay_[0-9A-Za-z]{24})/.exec(out)![1]!;

    // The ledger lines the payment posted.
    const ledger = JSON.parse(out.split('\n').find((l) => l.startsWith('{"object":"list"'))!);
    const lines = ledger.data.filter((e: { payment_id: string }) => e.payment_id === payId);
    assert.ok(lines.length >= 1, `ledger entries for ${payId}: ${JSON.stringify(ledger).slice(0, 400)}`);
    // The Temporal UI page of the payment's workflow.
    const uiUrl = out.split('\n').map((l) => l.trim()).find((l) => l.startsWith('http') && l.endsWith(`/workflows/${payId}`))!;
    assert.equal((await fetch(uiUrl)).status, 200, uiUrl);
    // The signed deliveries arrived and were verified, recognized included.
    await eventually(async () => /payment\.recognized\s+evt_\S+\s+pay_/.test(listen.out()), 60_000, 200);
    for (const type of ['payment.created', 'payment.detected', 'payment.confirmed', 'payment.recognized']) {
      assert.match(listen.out(), new RegExp(`${type.replace('.', '\\.')}\\s+evt_\\S+\\s+${payId}.*\\(signature verified\\)`), type);
    }
    assert.doesNotMatch(listen.out(), /refused a delivery/);

    const seconds = (recognizedAt - t0) / 1000;
    console.log(`      first minute: ready ${readyS.toFixed(1)} s after npm start, ${payId} recognized ${seconds.toFixed(1)} s after npm start`);
    assert.ok(start.proc.exitCode === null, 'npm start still runs');
  });
});
