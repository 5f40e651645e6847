// The production topology on one machine: the real Temporal server and one PostgreSQL, with the
// API, payment, chain, webhook and payout workers and the reference signer as separate OS
// processes started as README's "Production" section says. Under a steady load (payments on
// both devnet rails, webhooks to a loopback receiver, a payout stream) one process of each kind
// in turn is killed with SIGKILL and restarted, then the Temporal server and then PostgreSQL are
// restarted. At the end nothing is lost or doubled. Prints per-round recovery times and a tally.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { bundleWorkflowCode } from '@temporalio/worker';
import { Contract, Interface, Mnemonic, HDNodeWallet, getAddress } from 'ethers';
import { bootstrapFirstAdmin } from '../../activities/operators.js';
import { balances } from '../../activities/ledger.js';
import { verifyEvidence } from '../../activities/evidence.js';
import { createLogger } from '../../api/logger.js';
import { DEVNET_KEYSTORE_PASSWORD, TRON_STANDIN_USDT, devnetTreasuryAddress, devnetTronTreasuryAddress, ensureDevnetKeystore } from '../../scripts/devnet-rails.js';
import { startEmbeddedPostgres, PG_PASSWORD, PG_USER, type EmbeddedPg } from '../../scripts/embedded/postgres.js';
import { freePort } from '../../scripts/embedded/temporal.js';
import { tokenArtifact } from '../../scripts/embedded/devnet.js';
import { startStack, type Stack } from '../../scripts/stack.js';
import { startTemporalServer, type TemporalServer, type TemporalServerOptions } from '../../scripts/temporal-server.js';
import { WORKFLOWS_PATH, WORKFLOW_INTERCEPTOR_MODULES, installWorkerRuntime } from '../../workers/runtime.js';
import { TEST_MNEMONIC, adoptHarness, newMerchant, operatorNamed, testConfig, eventually } from '../harness.js';
import { startReceiver, type Receiver } from '../webhook-receiver.js';
import { devnet, pay } from '../chain-helpers.js';
import { USDT, allowlist, freshAddress, miner, seedAvailable } from '../payout-helpers.js';

/** A payout on chain: confirmed at its confirmations, settled at the rail's finality (the miner may reach either first). */
const ON_CHAIN = ['confirmed', 'settled'];

const CLI = fileURLToPath(new URL('../../scripts/stablerail.mjs', import.meta.url));
/** Kill rounds: ten, cycling the process kinds (each killed at least once), then the Temporal server, then PostgreSQL. CLUSTER_ROUNDS overrides the ten. */
const KINDS = ['api', 'worker', 'chain-worker', 'webhook-worker', 'payout-worker', 'signer'] as const;
type Kind = (typeof KINDS)[number];
const KIND_ROUNDS = Number(process.env.CLUSTER_ROUNDS ?? 10);
const SIGNER_TOKEN = randomBytes(24).toString('hex');
const TRON_PAYER = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';
const RECOVERY_TIMEOUT_MS = 240_000;
/**
 * An event whose first two attempts both died with a killed worker (recording activity, then
 * the lane's attempt at heartbeat timeout) gets its third attempt on the schedule, 5 min later
 * (+10% jitter): the final delivery check waits that long before it calls the event lost.
 */
const DELIVERY_WAIT_MS = 5 * 60_000 * 1.1 + 60_000;

interface Proc {
  kind: Kind;
  index: number;
  child: ChildProcess;
  out: string;
  port?: number;
}

interface Created {
  id: string;
  rail: 'usdt-erc20' | 'usdt-trc20';
  amountMinor: bigint;
  paid: boolean;
}

const checks = { passed: 0, failed: 0 };
const failures: string[] = [];
function check(name: string, ok: boolean, detail = ''): void {
  if (ok) checks.passed++;
  else {
    checks.failed++;
    failures.push(`${name}${detail ? `: ${detail}` : ''}`);
  }
  process.stdout.write(`      ${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? ` (${detail})` : ''}\n`);
}

describe('cluster topology: separate processes on the real Temporal server, killed and restarted under load', function () {
  this.timeout(3_600_000);
  let root = '';
  let pgServer: EmbeddedPg | null = null;
  let pgPort = 0;
  let temporal: TemporalServer | null = null;
  let temporalOpts: TemporalServerOptions;
  let stack: Stack | null = null;
  let receiver: Receiver | null = null;
  const procs: Proc[] = [];
  let env: NodeJS.ProcessEnv = {};
  let apiPorts: number[] = [];
  let signerPort = 0;

  /** Start one production process exactly as README's Production section does, and wait until it says it is ready. */
  async function startProc(kind: Kind, index: number): Promise<Proc> {
    const args = kind === 'signer'
      ? ['signer', '--keystore', join(root, 'data', 'signer-keystore.json'), '--port', String(signerPort), '--host', '127.0.0.1']
      : [kind];
    const extra: NodeJS.ProcessEnv = kind === 'api' ? { PORT: String(apiPorts[index]) } : {};
    // Its own process group: `stablerail` runs the CLI in a child, and a SIGKILL must reach both,
    // as when a supervisor kills a service's whole cgroup.
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...envFor(kind), ...extra, STABLERAIL_WORKER_IDENTITY: `${kind}-${index}` }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const p: Proc = { kind, index, child, out: '', port: extra.PORT ? Number(extra.PORT) : undefined };
    const log = createWriteStream(join(root, 'logs', `${kind}-${index}.log`), { flags: 'a' });
    const take = (b: Buffer) => {
      p.out = (p.out + b.toString()).slice(-20_000);
      log.write(b);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', () => log.end());
    const ready = kind === 'api' ? /api listening/ : kind === 'signer' ? /signer listening/ : /worker ready/;
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`${kind}-${index} exited ${child.exitCode}: ${p.out.slice(-2000)}`);
      return ready.test(p.out);
    }, 180_000, 100).catch((err) => {
      throw new Error(`${kind}-${index} not ready: ${(err as Error).message}\n${p.out.slice(-3000)}`);
    });
    return p;
  }

  async function stopProc(p: Proc, signal: NodeJS.Signals): Promise<void> {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    const exited = new Promise((r) => p.child.once('exit', r));
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-p.child.pid!, sig);
      } catch { /* already gone */ }
    };
    // SIGTERM to the wrapper, which passes it on once (a second one would cut the drain short).
    if (signal === 'SIGKILL') group('SIGKILL');
    else p.child.kill(signal);
    const t = setTimeout(() => group('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
    // The wrapper is gone; make sure its CLI child is too before a successor takes the port.
    if (signal === 'SIGKILL') group('SIGKILL');
  }

  /** Exactly the variables README's Production table names for each kind, plus the optional ones it lists. */
  function envFor(kind: Kind): NodeJS.ProcessEnv {
    const pick = (...keys: string[]) => Object.fromEntries(keys.map((k) => [k, env[k]]));
    const base = ['PATH', 'HOME', 'LOG_LEVEL', 'TEMPORAL_LOG_LEVEL', 'STABLERAIL_WORKFLOW_BUNDLE'];
    const temporalAndDb = ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'STABLERAIL_CONFIG'];
    switch (kind) {
      case 'api': return pick(...base, ...temporalAndDb, 'STABLERAIL_MASTER_KEY');
      case 'worker': case 'chain-worker': return pick(...base, ...temporalAndDb);
      case 'webhook-worker': return pick(...base, ...temporalAndDb, 'STABLERAIL_MASTER_KEY');
      case 'payout-worker': return pick(...base, ...temporalAndDb, 'STABLERAIL_SIGNER_TOKEN');
      case 'signer': return pick('PATH', 'HOME', 'STABLERAIL_SIGNER_PASSWORD', 'STABLERAIL_SIGNER_TOKEN');
    }
  }

  const liveApiUrls = () => procs.filter((p) => p.kind === 'api' && p.child.exitCode === null && p.child.signalCode === null).map((p) => `http://127.0.0.1:${p.port}`);

  /**
   * A client of the two API processes: round robin, and on a refused connection, a 5xx or a 409
   * `idempotency_request_in_flight` the same request (same Idempotency-Key) again on the next
   * one, as a load balancer's (or the SDK's) retry would.
   */
  let rr = 0;
  async function call(method: string, path: string, o: { key: string; body?: unknown; idem?: string }, deadlineMs = RECOVERY_TIMEOUT_MS): Promise<{ status: number; body: any }> {
    const deadline = Date.now() + deadlineMs;
    let last = '';
    for (;;) {
      const urls = liveApiUrls();
      const url = urls.length ? urls[rr++ % urls.length]! : `http://127.0.0.1:${apiPorts[0]}`;
      try {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { authorization: `Bearer ${o.key}`, ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(o.idem ? { 'idempotency-key': o.idem } : {}) },
          body: o.body === undefined ? undefined : JSON.stringify(o.body),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        const body = text ? JSON.parse(text) : null;
        // The same key still in flight on the killed process (its lock not yet expired): the API
        // says to retry after Retry-After, as a real client does.
        const inFlight = res.status === 409 && body?.error?.code === 'idempotency_request_in_flight';
        if (res.status < 500 && !inFlight) return { status: res.status, body };
        last = `${res.status} ${text.slice(0, 300)}`;
      } catch (err) {
        last = String(err);
      }
      if (Date.now() > deadline) throw new Error(`${method} ${path} kept failing: ${last}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  // The load, shared by the rounds and the final checks.
  const created: Created[] = [];
  const payouts: Array<{ id: string; amountMinor: bigint }> = [];
  let loadMerchant: { merchantId: string; key: string };
  let payoutMerchant: { merchantId: string; key: string };
  let payoutDest = '';
  let loadOn = false;
  let loadLoops: Promise<void>[] = [];
  let amountSeq = 0;
  let payoutSeq = 0;
  const loadErrors: string[] = [];
  let evmPayLock: Promise<unknown> = Promise.resolve();

  async function createAndPay(rail: Created['rail']): Promise<Created> {
    // Distinct amounts, so each on-chain transfer names its payment.
    const amountMinor = 1_000_000n + BigInt(++amountSeq) * 1_000n;
    const amount = (Number(amountMinor) / 1e6).toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
    const idem = `idem-${randomBytes(8).toString('hex')}`;
    const r = await call('POST', '/v1/payments', { key: loadMerchant.key, idem, body: { amount, rail, reference: `load-${amountSeq}` } });
    if (r.status !== 201) throw new Error(`payment not created: ${r.status} ${JSON.stringify(r.body)}`);
    const c: Created = { id: r.body.id, rail, amountMinor, paid: false };
    created.push(c);
    if (rail === 'usdt-erc20') {
      // One payer wallet: its transactions go one at a time, or two would take the same nonce.
      const turn = evmPayLock.then(() => pay(r.body.deposit_address, amountMinor));
      evmPayLock = turn.catch(() => undefined);
      await turn;
    }
    else stack!.tronStandin!.transfer({ token: TRON_STANDIN_USDT, from: TRON_PAYER, to: r.body.deposit_address, amountMinor });
    c.paid = true;
    return c;
  }

  async function createPayout(): Promise<{ id: string; amountMinor: bigint }> {
    // Taken before any await: the probe and the stream create payouts concurrently, each with its own amount.
    const n = ++payoutSeq;
    const amountMinor = 2_000_000n + BigInt(n) * 1_000n;
    const amount = (Number(amountMinor) / 1e6).toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
    const r = await call('POST', '/v1/payouts', { key: payoutMerchant.key, idem: `po-${randomBytes(8).toString('hex')}`, body: { amount, rail: 'usdt-erc20', destination: payoutDest, reference: `po-${n}` } });
    if (r.status !== 201) throw new Error(`payout not created: ${r.status} ${JSON.stringify(r.body)}`);
    const po = { id: r.body.id as string, amountMinor };
    payouts.push(po);
    const approver = await operatorToken;
    const a = await call('POST', `/v1/admin/payouts/${po.id}/approve`, { key: approver, body: { reason: 'cluster load' } });
    // An approval retried after a lost answer finds it already counted: 409 operator_already_approved,
    // or payout_not_pending_approval once the payout moved on. Either way the first one must be recorded.
    const retriedAfterCount = a.status === 409 && ['operator_already_approved', 'payout_not_pending_approval'].includes(a.body?.error?.code)
      && (await stack!.pool.query('SELECT 1 FROM payout_approvals WHERE payout_id = $1', [po.id])).rowCount === 1;
    if (a.status !== 200 && !retriedAfterCount) throw new Error(`approve: ${a.status} ${JSON.stringify(a.body)}`);
    return po;
  }
  let operatorToken: Promise<string>;

  async function paymentStatus(id: string): Promise<string> {
    const { rows } = await stack!.pool.query('SELECT status FROM payments WHERE id = $1', [id]);
    return rows[0]?.status ?? 'missing';
  }
  async function payoutStatus(id: string): Promise<string> {
    const { rows } = await stack!.pool.query('SELECT status FROM payouts WHERE id = $1', [id]);
    return rows[0]?.status ?? 'missing';
  }
  const delivered = (eventType: string, paymentId: string) => receiver!.received.some((r) => {
    try {
      const b = JSON.parse(r.raw.toString());
      return b.type === eventType && b.data?.id === paymentId;
    } catch {
      return false;
    }
  });

  before(async function () {
    process.env.TEMPORAL_LOG_LEVEL ??= 'ERROR';
    installWorkerRuntime();
    root = mkdtempSync(join(tmpdir(), 'stablerail-cluster-'));
    chmodSync(root, 0o755);
    mkdirSync(join(root, 'logs'));
    mkdirSync(join(root, 'data'));
    // One PostgreSQL for Stablerail and for Temporal's persistence.
    pgPort = await freePort();
    pgServer = await startEmbeddedPostgres({ dataDir: join(root, 'pg'), port: pgPort, fsync: false });
    temporalOpts = { dataDir: join(root, 'temporal'), postgres: { host: '127.0.0.1', port: pgPort, user: PG_USER, password: PG_PASSWORD } };
    temporal = await startTemporalServer(temporalOpts);
    // Restarts take the same ports.
    temporalOpts = { ...temporalOpts, port: temporal.port, portBase: temporal.portBase };

    const devnetPorts = { evm: await freePort(), tron: await freePort() };
    apiPorts = [await freePort(), await freePort()];
    signerPort = await freePort();
    // The reference signer's keystore (the devnet's seed; it guards nothing of value).
    await ensureDevnetKeystore(join(root, 'data'), TEST_MNEMONIC);
    const config = testConfig(`http://127.0.0.1:${apiPorts[0]}`, {
      payouts: { signer: { kind: 'http', url: `http://127.0.0.1:${signerPort}` }, destination_cooling_off_s: 2 },
    }, { evm: [`http://127.0.0.1:${devnetPorts.evm}`], tron: `http://127.0.0.1:${devnetPorts.tron}` });
    const configPath = join(root, 'config.json');
    const { base_url, rails, monitor_after_close_s, rate_limit, temporal: t, reconciliation_interval_s, payouts: po } = config;
    writeFileSync(configPath, JSON.stringify({ base_url, rails, monitor_after_close_s, rate_limit, temporal: t, reconciliation_interval_s, payouts: po }));

    // The devnet (anvil and the TRON stand-in), migrations and a pool, from the launcher's own
    // code; no API or worker runs in this process.
    const databaseUrl = `postgresql://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${pgPort}/stablerail`;
    const pgAdmin = new (await import('pg')).default.Client({ host: '127.0.0.1', port: pgPort, user: PG_USER, password: PG_PASSWORD, database: 'postgres' });
    await pgAdmin.connect();
    await pgAdmin.query('CREATE DATABASE stablerail').catch(() => undefined);
    await pgAdmin.end();
    const logs: string[] = [];
    const logger = createLogger(new Writable({ write(c, _e, cb) { logs.push(c.toString()); cb(); } }), 'warn');
    const saved = { DATABASE_URL: process.env.DATABASE_URL, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, STABLERAIL_SIGNER_TOKEN: process.env.STABLERAIL_SIGNER_TOKEN };
    process.env.DATABASE_URL = databaseUrl;
    process.env.TEMPORAL_ADDRESS = temporal.address;
    // The launcher builds the configured signer client even with no payout worker here.
    process.env.STABLERAIL_SIGNER_TOKEN = SIGNER_TOKEN;
    try {
      stack = await startStack({
        dataDir: join(root, 'data'), config, apiPort: 0, temporalPort: 0, logger, masterKey: randomBytes(32), api: false,
        workers: 0, webhookWorkers: 0, payoutWorkers: 0, chainWorkers: 0, watchers: false,
        devnet: { port: devnetPorts.evm, mnemonic: TEST_MNEMONIC, tronPort: devnetPorts.tron, fund: [devnetTreasuryAddress(TEST_MNEMONIC)], fundTron: [devnetTronTreasuryAddress(TEST_MNEMONIC)] },
      });
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    // The harness's helpers (allowlist, …) call the first API process.
    stack.apiUrl = `http://127.0.0.1:${apiPorts[0]}`;
    const first = await bootstrapFirstAdmin(stack.pool, 'admin@cluster.test', 'cluster-test');
    const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
    const bundlePath = join(root, 'workflow-bundle.js');
    writeFileSync(bundlePath, bundle.code);
    const masterKey = randomBytes(32);
    adoptHarness({ stack, config, bundle, dataDir: join(root, 'data'), masterKey, logs, configPath, rpcProxies: [], cleanups: [] }, { token: first!.token.secret, operatorId: first!.operator.id });

    // README "Production": these variables and nothing else (the bundle path only saves each
    // worker from bundling the workflow code itself on a two-core machine).
    env = {
      PATH: process.env.PATH, HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      STABLERAIL_CONFIG: configPath,
      STABLERAIL_MASTER_KEY: masterKey.toString('hex'),
      STABLERAIL_SIGNER_TOKEN: SIGNER_TOKEN,
      STABLERAIL_SIGNER_PASSWORD: DEVNET_KEYSTORE_PASSWORD,
      STABLERAIL_WORKFLOW_BUNDLE: bundlePath,
      TEMPORAL_LOG_LEVEL: 'ERROR',
      LOG_LEVEL: 'info',
    };
    procs.push(await startProc('signer', 0));
    procs.push(await startProc('worker', 0));
    procs.push(await startProc('worker', 1));
    procs.push(await startProc('api', 0));
    procs.push(await startProc('api', 1));
    procs.push(await startProc('chain-worker', 0));
    procs.push(await startProc('webhook-worker', 0));
    procs.push(await startProc('payout-worker', 0));

    receiver = await startReceiver();
    loadMerchant = await newMerchant({ name: 'Cluster load' });
    const we = await call('POST', '/v1/webhook_endpoints', { key: loadMerchant.key, body: { url: receiver.url, enabled_events: ['*'] } });
    assert.equal(we.status, 201, JSON.stringify(we.body));
    payoutMerchant = await newMerchant({ name: 'Cluster payouts' });
    await seedAvailable(payoutMerchant.merchantId, 10_000n * USDT);
    payoutDest = freshAddress();
    await allowlist(payoutMerchant.key, payoutDest);
    operatorToken = operatorNamed('alice').then((o) => o.token);
  });

  after(async function () {
    if (process.env.CLUSTER_TALLY_FILE) writeFileSync(process.env.CLUSTER_TALLY_FILE, JSON.stringify(checks));
    loadOn = false;
    await Promise.allSettled(loadLoops);
    // Each drains on SIGTERM (README "Stopping and deploying"); all at once.
    await Promise.all(procs.map((p) => stopProc(p, 'SIGTERM').catch(() => undefined)));
    await receiver?.close();
    await stack?.stop().catch(() => undefined);
    await temporal?.stop().catch(() => undefined);
    await pgServer?.stop().catch(() => undefined);
    if (root && checks.failed === 0 && !process.env.KEEP_CLUSTER_DIR) rmSync(root, { recursive: true, force: true });
    else if (root) process.stdout.write(`      logs kept in ${root}/logs\n`);
  });

  it('survives SIGKILL of each process kind, a Temporal server restart and a PostgreSQL restart under load, losing and doubling nothing', async function () {
    // Blocks keep coming on both chains, as on a live network.
    const stopEvmMiner = miner(300);
    const tronMiner = setInterval(() => stack!.tronStandin!.mine(1), 300);
    loadOn = true;
    const loop = async (name: string, every: number, f: () => Promise<unknown>) => {
      while (loadOn) {
        try {
          await f();
        } catch (err) {
          loadErrors.push(`${name}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, every));
      }
    };
    let railFlip = 0;
    loadLoops = [
      loop('payments', 400, () => createAndPay(railFlip++ % 2 === 0 ? 'usdt-erc20' : 'usdt-trc20')),
      loop('payouts', 2500, () => createPayout()),
    ];
    try {
      // A probe per round: the work the killed kind does, done again after its restart.
      const probePayment = async (rail: Created['rail']) => {
        const c = await createAndPay(rail);
        await eventually(async () => (await paymentStatus(c.id)) === 'confirmed' || (await paymentStatus(c.id)) === 'recognized', RECOVERY_TIMEOUT_MS, 200);
        return c;
      };
      const probe: Record<Kind | 'temporal' | 'postgres', () => Promise<void>> = {
        api: async () => void (await probePayment('usdt-erc20')),
        worker: async () => void (await probePayment('usdt-trc20')),
        'chain-worker': async () => void (await probePayment('usdt-erc20')),
        'webhook-worker': async () => {
          const c = await probePayment('usdt-trc20');
          await eventually(async () => delivered('payment.confirmed', c.id), RECOVERY_TIMEOUT_MS, 200);
        },
        'payout-worker': async () => {
          const po = await createPayout();
          await eventually(async () => ON_CHAIN.includes((await payoutStatus(po.id)) ?? ''), RECOVERY_TIMEOUT_MS, 200);
        },
        signer: async () => {
          const po = await createPayout();
          await eventually(async () => ON_CHAIN.includes((await payoutStatus(po.id)) ?? ''), RECOVERY_TIMEOUT_MS, 200);
        },
        temporal: async () => {
          const c = await probePayment('usdt-erc20');
          await eventually(async () => delivered('payment.confirmed', c.id), RECOVERY_TIMEOUT_MS, 200);
        },
        postgres: async () => {
          const c = await probePayment('usdt-trc20');
          await eventually(async () => delivered('payment.confirmed', c.id), RECOVERY_TIMEOUT_MS, 200);
        },
      };
      // Let the load run before the first kill.
      await eventually(async () => created.filter((c) => c.paid).length >= 6 && payouts.length >= 1, 120_000, 200);

      const rounds: Array<{ round: string; recoveryMs: number; ok: boolean }> = [];
      const runRound = async (label: string, kind: Kind | 'temporal' | 'postgres', restart: () => Promise<void>) => {
        const t0 = Date.now();
        let ok = true;
        try {
          await restart();
          await probe[kind]();
        } catch (err) {
          ok = false;
          failures.push(`${label}: ${(err as Error).message}`);
        }
        const recoveryMs = Date.now() - t0;
        rounds.push({ round: label, recoveryMs, ok });
        process.stdout.write(`      round ${label}: ${ok ? `recovered in ${(recoveryMs / 1000).toFixed(1)} s` : 'DID NOT RECOVER'}\n`);
      };
      for (let r = 0; r < KIND_ROUNDS; r++) {
        const kind = KINDS[r % KINDS.length]!;
        const victims = procs.filter((p) => p.kind === kind);
        const victim = victims[Math.floor(r / KINDS.length) % victims.length]!;
        await runRound(`${r + 1} SIGKILL ${kind}-${victim.index}`, kind, async () => {
          await stopProc(victim, 'SIGKILL');
          procs.splice(procs.indexOf(victim), 1, await startProc(kind, victim.index));
        });
      }
      await runRound(`${KIND_ROUNDS + 1} restart Temporal server`, 'temporal', async () => {
        await temporal!.kill();
        temporal = await startTemporalServer(temporalOpts);
      });
      await runRound(`${KIND_ROUNDS + 2} restart PostgreSQL`, 'postgres', async () => {
        await pgServer!.stop();
        pgServer = await startEmbeddedPostgres({ dataDir: join(root, 'pg'), port: pgPort, fsync: false });
      });
      for (const r of rounds) check(`round ${r.round} recovered`, r.ok, failures.find((f) => f.startsWith(r.round)));
    } finally {
      loadOn = false;
      await Promise.allSettled(loadLoops);
      // Let everything in flight settle with blocks still coming.
      try {
        await eventually(async () => {
          const { rows } = await stack!.pool.query(`SELECT count(*)::int AS n FROM payments WHERE id = ANY($1) AND status IN ('confirmed', 'recognized')`, [created.map((c) => c.id)]);
          const { rows: pr } = await stack!.pool.query(`SELECT count(*)::int AS n FROM payouts WHERE id = ANY($1) AND status IN ('confirmed', 'settled')`, [payouts.map((p) => p.id)]);
          return rows[0].n === created.filter((c) => c.paid).length && pr[0].n === payouts.length;
        }, RECOVERY_TIMEOUT_MS, 500);
      } catch { /* the checks below say what did not settle */ }
      await stopEvmMiner();
      clearInterval(tronMiner);
    }

    const pool = stack!.pool;
    const paid = created.filter((c) => c.paid);
    process.stdout.write(`      load: ${created.length} payments (${paid.length} paid), ${payouts.length} payouts, ${loadErrors.length} load errors\n`);
    for (const e of loadErrors.slice(0, 5)) process.stdout.write(`        load error: ${e}\n`);
    check('the load ran without errors (every create, payment and approval went through, retried across processes)', loadErrors.length === 0, loadErrors.slice(0, 3).join(' | '));

    // 1. Every payment in the status its on-chain payment implies (paid exactly: confirmed), and once.
    const { rows: pays } = await pool.query(`SELECT id, status, reference FROM payments WHERE merchant_id = $1`, [loadMerchant.merchantId]);
    const byId = new Map(pays.map((p) => [p.id as string, p]));
    const wrong = paid.filter((c) => !['confirmed', 'recognized'].includes(byId.get(c.id)?.status));
    check('every paid payment is confirmed', wrong.length === 0, wrong.slice(0, 5).map((c) => `${c.id}=${byId.get(c.id)?.status}`).join(', '));
    const refs = new Set(pays.map((p) => p.reference));
    check('one payment row per request (no duplicate from retried creates)', refs.size === pays.length && pays.length === new Set(created.map((c) => c.id)).size, `${pays.length} rows, ${refs.size} references, ${created.length} created`);
    const { rows: tx } = await pool.query(`SELECT payment_id, count(*)::int AS n, sum(amount_minor)::text AS s FROM chain_transfers WHERE payment_id = ANY($1) AND removed_at IS NULL GROUP BY payment_id`, [paid.map((c) => c.id)]);
    const txBy = new Map(tx.map((r) => [r.payment_id as string, r]));
    const badTx = paid.filter((c) => txBy.get(c.id)?.n !== 1 || BigInt(txBy.get(c.id)!.s) !== c.amountMinor);
    check('each payment has exactly its one transfer recorded', badTx.length === 0, badTx.slice(0, 5).map((c) => `${c.id}:${txBy.get(c.id)?.n ?? 0}`).join(', '));

    // 2. Events: no id twice, per-object sequences 1..n with no gap or repeat, each lifecycle event once.
    const { rows: evs } = await pool.query(`SELECT id, type, object_id, sequence FROM events WHERE merchant_id = $1 ORDER BY object_id, sequence`, [loadMerchant.merchantId]);
    check('no event id twice', new Set(evs.map((e) => e.id)).size === evs.length);
    const seqBad: string[] = [];
    const perObject = new Map<string, number[]>();
    for (const e of evs) perObject.set(e.object_id, [...(perObject.get(e.object_id) ?? []), e.sequence]);
    for (const [obj, seqs] of perObject) if (seqs.some((s, i) => s !== i + 1)) seqBad.push(`${obj}:${seqs.join(',')}`);
    check('per-object event sequences are 1..n without gaps or repeats', seqBad.length === 0, seqBad.slice(0, 3).join(' '));
    const typeCount = (id: string, type: string) => evs.filter((e) => e.object_id === id && e.type === type).length;
    const lifecycleBad = paid.filter((c) => typeCount(c.id, 'payment.created') !== 1 || typeCount(c.id, 'payment.confirmed') !== 1);
    check('each payment has payment.created and payment.confirmed exactly once', lifecycleBad.length === 0, lifecycleBad.slice(0, 5).map((c) => c.id).join(', '));

    // 3. Every event delivered at least once; after deduplication by webhook-id, each event seen once.
    await eventually(async () => {
      const seen = new Set(receiver!.received.map((r) => r.headers['webhook-id']));
      return evs.every((e) => seen.has(e.id));
    }, DELIVERY_WAIT_MS, 500).catch(() => undefined);
    const byWebhookId = new Map<string, Set<string>>();
    for (const r of receiver!.received) {
      const wid = String(r.headers['webhook-id']);
      const bodyId = JSON.parse(r.raw.toString()).id as string;
      byWebhookId.set(wid, (byWebhookId.get(wid) ?? new Set()).add(bodyId));
    }
    const undelivered = evs.filter((e) => !byWebhookId.has(e.id));
    check('every event delivered at least once', undelivered.length === 0, `${undelivered.length} of ${evs.length} missing`);
    const mixed = [...byWebhookId].filter(([wid, ids]) => ids.size !== 1 || !ids.has(wid));
    const stray = [...byWebhookId.keys()].filter((wid) => !evs.some((e) => e.id === wid));
    check('after dedup by webhook-id each delivery is one event, and no event twice', mixed.length === 0 && stray.length === 0, `${mixed.length} mixed, ${stray.length} unknown`);
    process.stdout.write(`      webhooks: ${receiver!.received.length} requests for ${evs.length} events (${receiver!.received.length - byWebhookId.size} redeliveries deduplicated)\n`);

    // 4. The ledger equals its re-derivation from the surviving transfers (and the payouts).
    const bal = async (merchantId: string) => {
      const b = await balances(pool, { environment: 'sandbox', merchantId });
      return (purpose: string) => b.filter((r) => r.purpose === purpose).reduce((a, r) => a + r.balance_minor, 0n);
    };
    // A posting is its own activity after the transition it follows, and a posting activity may be
    // in retry backoff after the PostgreSQL round: wait for the two to agree (a lost or doubled
    // posting never does), re-reading statuses and balances together.
    const ledgerVsDerivation = async () => {
      const { rows: now } = await pool.query(`SELECT id, status FROM payments WHERE merchant_id = $1`, [loadMerchant.merchantId]);
      const st = new Map(now.map((p) => [p.id as string, p.status as string]));
      const loadBal = await bal(loadMerchant.merchantId);
      const expectPending = paid.filter((c) => st.get(c.id) === 'confirmed').reduce((a, c) => a + c.amountMinor, 0n);
      const expectAvailable = paid.filter((c) => st.get(c.id) === 'recognized').reduce((a, c) => a + c.amountMinor, 0n);
      return { ok: loadBal('pending') === expectPending && loadBal('available') === expectAvailable, detail: `pending ${loadBal('pending')} vs ${expectPending}, available ${loadBal('available')} vs ${expectAvailable}` };
    };
    const ledger = await eventually(async () => ((await ledgerVsDerivation()).ok ? true : undefined), RECOVERY_TIMEOUT_MS, 500).then(() => ledgerVsDerivation(), () => ledgerVsDerivation());
    check('merchant ledger equals the re-derivation from its transfers', ledger.ok, ledger.detail);
    const poBal = await bal(payoutMerchant.merchantId);
    const paidOut = payouts.reduce((a, p) => a + p.amountMinor, 0n);
    check('payout merchant ledger: available = seed - payouts, nothing left on hold', poBal('available') === 10_000n * USDT - paidOut && poBal('payout_hold') === 0n, `available ${poBal('available')}, hold ${poBal('payout_hold')}`);

    // 5. The evidence chain verifies.
    const ev = await verifyEvidence(pool);
    check('evidence chain verifies', ev.ok, ev.ok ? '' : `broken at ${ev.firstBroken?.seq}: ${ev.firstBroken?.reason}`);

    // 6. Every payout produced exactly one on-chain transfer.
    const { rows: pos } = await pool.query(`SELECT id, status, tx_hash FROM payouts WHERE id = ANY($1)`, [payouts.map((p) => p.id)]);
    check('every payout confirmed or settled', pos.length === payouts.length && pos.every((p) => ON_CHAIN.includes(p.status)), pos.filter((p) => !ON_CHAIN.includes(p.status)).map((p) => `${p.id}=${p.status}`).slice(0, 5).join(', '));
    const token = new Contract(devnet().devnet.tokenAddress, tokenArtifact().abi as never, devnet().provider);
    const logs = await devnet().provider.getLogs({ address: devnet().devnet.tokenAddress, topics: [token.interface.getEvent('Transfer')!.topicHash, null, '0x' + getAddress(payoutDest).slice(2).toLowerCase().padStart(64, '0')], fromBlock: 0, toBlock: 'latest' });
    const iface = new Interface(tokenArtifact().abi as never);
    const onChain = logs.map((l) => ({ tx: l.transactionHash.toLowerCase(), amount: iface.parseLog(l)!.args[2] as bigint }));
    const treasury = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(TEST_MNEMONIC), "m/44'/60'/2'/0/0").address;
    const poMismatch = payouts.filter((p) => onChain.filter((t) => t.amount === p.amountMinor).length !== 1);
    check('one on-chain transfer per payout, none extra', onChain.length === payouts.length && poMismatch.length === 0, `${onChain.length} transfers for ${payouts.length} payouts; from ${treasury}`);
    const hashes = new Set(pos.map((p) => String(p.tx_hash).toLowerCase()));
    check('each payout names its own transfer', onChain.every((t) => hashes.has(t.tx)) && hashes.size === payouts.length);

    process.stdout.write(`      ${checks.passed} passed, ${checks.failed} failed\n`);
    assert.equal(checks.failed, 0, failures.join('\n'));
  });
});
