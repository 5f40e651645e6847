// The production processes as README's "Production" section starts them: `stablerail api`,
// `stablerail worker`, `stablerail chain-worker`, `stablerail webhook-worker`, each a separate OS
// process with only the documented environment, against a fresh database and namespace.
// A payment made and paid before any chain worker exists is detected once one starts (a new
// rail's cursor starts before its oldest payment, not at the head), the payment worker
// registered the namespace's search attributes and the reconciliation Schedule, and SIGTERM
// drains: the API finishes a request in flight and refuses new ones, a webhook worker lets an
// attempt in flight finish and records it, and every process exits 0.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { Connection } from '@temporalio/client';
import { createPool, type Pool } from '../activities/db.js';
import { createApiKey, createMerchant, SCOPES } from '../activities/merchant.js';
import { parseConfig } from '../activities/config.js';
import { createEndpoint } from '../activities/webhooks/endpoints.js';
import { newId } from '../activities/ids.js';
import { startDeliveries } from '../api/webhook-commands.js';
import { deliveryIdFor } from '../workflows/webhook-shared.js';
import { devnetRails } from '../scripts/devnet-rails.js';
import { freePort } from '../scripts/embedded/temporal.js';
import { SEARCH_ATTRIBUTE_DEFS } from '../temporal-config/search-attributes.js';
import { reconciliationScheduleId } from '../temporal-config/schedules.js';
import { eventually, h } from './harness.js';
import { head, mine, pay } from './chain-helpers.js';
import { spawnStablerail, type Proc } from './stablerail-process.js';

const procs: Proc[] = [];
const stablerail = (cmd: string, env: Record<string, string>, readyText: string): Promise<Proc> => spawnStablerail(procs, cmd, env, readyText);

/** SIGTERM to the process (the wrapper passes it on), then its exit code. */
async function term(p: Proc): Promise<number | null> {
  p.child.kill('SIGTERM');
  return p.exit;
}

async function request(url: string, method: string, key: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('production processes (stablerail api | worker | chain-worker | webhook-worker)', function () {
  this.timeout(240_000);
  let pool: Pool | null = null;

  after(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.pid) {
        try { process.kill(-p.child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    await pool?.end();
  });

  it('a payment paid before any chain worker exists is detected once `stablerail chain-worker` starts; the worker set up the namespace; SIGTERM drains the API mid-request and every process exits 0', async () => {
    const { stack, bundle, dataDir, rpcProxies } = h();
    // A database and a namespace of their own; the rails' xpubs are new, so no address is shared with the suite's.
    const suffix = randomBytes(4).toString('hex');
    const database = `prod_${suffix}`;
    await stack.pool.query(`CREATE DATABASE ${database}`);
    const dbUrl = new URL(stack.databaseUrl);
    dbUrl.pathname = `/${database}`;
    const namespace = `prod-${suffix}`;
    const mnemonic = Wallet.createRandom().mnemonic!.phrase;
    const rails = devnetRails({ mnemonic, evmRpcUrl: rpcProxies[0]!.url, tronRpcUrl: 'http://127.0.0.1:9' }).filter((r) => r.kind === 'evm');
    const port = await freePort();
    const rawConfig = { base_url: `http://127.0.0.1:${port}`, rails, reconciliation_interval_s: 3600, monitor_after_close_s: 5, temporal: { namespace } };
    const config = parseConfig(rawConfig, { base_url: rawConfig.base_url });
    const configFile = join(dataDir, `prod-${suffix}.json`);
    writeFileSync(configFile, JSON.stringify(rawConfig));
    const bundleFile = join(dataDir, `prod-${suffix}-bundle.js`);
    writeFileSync(bundleFile, bundle.code);
    // README's environment, nothing else (the bundle only spares each process a rebuild).
    const env = {
      DATABASE_URL: dbUrl.toString(), TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: namespace,
      STABLERAIL_CONFIG: configFile, STABLERAIL_MASTER_KEY: randomBytes(32).toString('hex'), STABLERAIL_WORKFLOW_BUNDLE: bundleFile,
    };

    const apiProc = await stablerail('api', { ...env, PORT: String(port) }, 'api listening');
    // The SDK Core's metrics for Prometheus, served by the worker process itself.
    const sdkMetricsPort = await freePort();
    const worker = await stablerail('worker', { ...env, STABLERAIL_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${sdkMetricsPort}` }, 'payment worker ready');
    pool = createPool(env.DATABASE_URL, 2);
    const m = await createMerchant(pool, config, 'Production merchant', 'test');
    const key = (await createApiKey(pool, m.id, 'sandbox', [...SCOPES], 'test')).secret;
    const base = `http://127.0.0.1:${port}`;

    const created = await request(`${base}/v1/payments`, 'POST', key, { amount: '12.50', rail: 'usdt-erc20', reference: `prod-${suffix}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await pay(created.body.deposit_address, 12_500_000n);
    const paidAt = await head();
    await mine(4);
    assert.equal((await pool.query(`SELECT count(*)::int AS n FROM chain_cursors`)).rows[0].n, 0, 'no chain worker has run on this database yet');
    assert.equal((await request(`${base}/v1/payments/${created.body.id}`, 'GET', key)).body.status, 'awaiting_payment');

    const chain = await stablerail('chain-worker', env, 'chain worker ready');
    const confirmed = await eventually(async () => {
      const p = await request(`${base}/v1/payments/${created.body.id}`, 'GET', key);
      return p.body.status === 'confirmed' ? p.body : null;
    }, 90_000, 200).catch((e) => { throw new Error(`${e}; chain worker: ${chain.out().slice(-3000)}`); });
    assert.equal(confirmed.amount_received, '12.50');
    const cursor = (await pool.query(`SELECT processed_height::int AS p FROM chain_cursors WHERE rail = 'usdt-erc20'`)).rows[0].p;
    assert.ok(cursor >= paidAt, 'the watcher went on past the transfer');
    const { rows: transfers } = await pool.query(`SELECT block_height::int AS b FROM chain_transfers WHERE payment_id = $1`, [created.body.id]);
    assert.deepEqual(transfers.map((t) => t.b), [paidAt], 'the transfer mined before the watcher existed, counted once');

    const sdkScrape = await (await fetch(`http://127.0.0.1:${sdkMetricsPort}/metrics`)).text();
    assert.match(sdkScrape, /^temporal_request_latency_bucket\{/m, 'the payment worker serves the SDK\'s metrics');
    assert.match(sdkScrape, new RegExp(`namespace="${namespace}"`), 'labelled with the namespace');

    // The payment worker registered the search attributes and the reconciliation Schedule.
    const conn = await Connection.connect({ address: stack.temporalAddress });
    try {
      const sa = await conn.operatorService.listSearchAttributes({ namespace });
      for (const d of SEARCH_ATTRIBUTE_DEFS) assert.ok(d.name in (sa.customAttributes ?? {}), `${d.name} registered`);
      const sched = await conn.workflowService.describeSchedule({ namespace, scheduleId: reconciliationScheduleId('sandbox') });
      assert.equal(sched.schedule?.action?.startWorkflow?.workflowType?.name, 'reconciliationWorkflow');
    } finally {
      await conn.close();
    }

    // Drain: a request the API has begun (headers parsed: it answered 100 Continue) but whose body
    // is still to come when SIGTERM lands finishes; new connections are refused meanwhile.
    const body = JSON.stringify({ amount: '1.00', rail: 'usdt-erc20', reference: `drain-${suffix}` });
    let begun: () => void = () => undefined;
    const headersParsed = new Promise<void>((r) => { begun = r; });
    const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${base}/v1/payments`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' } }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: b }));
      });
      req.on('error', reject);
      req.on('continue', () => {
        begun();
        // Only once the API is draining and refusing new connections does the body go out.
        void eventually(async () => apiProc.out().includes('"draining"') || null, 30_000, 20).then(async () => {
          await eventually(() => new Promise<boolean>((r) => {
            const sock = connect(port, '127.0.0.1');
            sock.once('connect', () => { sock.destroy(); r(false); });
            sock.once('error', () => r(true));
          }), 30_000, 20);
          req.end(body);
        }, reject);
      });
      req.flushHeaders();
    });
    await headersParsed;
    apiProc.child.kill('SIGTERM');
    const answered = await inFlight;
    assert.equal(answered.status, 201, answered.body);
    assert.equal(await apiProc.exit, 0, apiProc.out().slice(-2000));

    assert.equal(await term(chain), 0, chain.out().slice(-2000));
    assert.equal(await term(worker), 0, worker.out().slice(-2000));
  });

  it('`stablerail webhook-worker` on SIGTERM lets the attempt in flight finish, records it, and exits 0', async () => {
    const { stack, config, bundle, dataDir, masterKey } = h();
    let release: (() => void) | null = null;
    const seen: string[] = [];
    const receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(String(req.headers['webhook-id']));
        release = () => res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
      const merchantPool = stack.pool;
      const m = await createMerchant(merchantPool, config, 'Drain merchant', 'test');
      const { row: ep } = await createEndpoint(merchantPool, masterKey, config, { merchantId: m.id, environment: 'sandbox', actor: 'test' }, { url }, null);
      const eventId = newId('evt');
      await merchantPool.query(
        `INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data) VALUES ($1, $2, 'sandbox', 'payment.created', 'payment', $3, 1, '{}')`,
        [eventId, m.id, newId('pay')],
      );
      const taskQueue = `webhooks-drain-${randomBytes(3).toString('hex')}`;
      const configFile = join(dataDir, 'drain-config.json');
      writeFileSync(configFile, JSON.stringify(config));
      const bundleFile = join(dataDir, 'drain-bundle.js');
      writeFileSync(bundleFile, bundle.code);
      const proc = await stablerail('webhook-worker', {
        DATABASE_URL: stack.databaseUrl, TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: stack.namespace, STABLERAIL_CONFIG: configFile,
        STABLERAIL_MASTER_KEY: masterKey.toString('hex'), STABLERAIL_WORKFLOW_BUNDLE: bundleFile, STABLERAIL_WEBHOOK_TASK_QUEUE: taskQueue,
      }, 'webhook worker ready');
      const deliveryId = deliveryIdFor(eventId, ep.id);
      await startDeliveries(stack.client, [{ deliveryId, eventId, endpointId: ep.id, kind: 'automatic' }], taskQueue);
      await eventually(async () => release !== null, 30_000, 20);
      proc.child.kill('SIGTERM');
      await eventually(async () => proc.out().includes('"draining"') || null, 30_000, 20);
      release!();
      assert.equal(await proc.exit, 0, proc.out().slice(-2000));
      const { rows } = await stack.pool.query(`SELECT attempt, response_status, outcome FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt`, [deliveryId]);
      assert.deepEqual(rows.map((r) => [r.attempt, r.response_status]), [[1, 200]], 'the attempt in flight was recorded once, with its answer');
      assert.equal(seen.length, 1, 'nothing was sent twice');
    } finally {
      await new Promise<void>((r) => { receiver.closeAllConnections(); receiver.close(() => r()); });
    }
  });
});
