import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, h } from './harness.js';
import { createPayment, getPayment, head, mine, pay, rpc, transitionsOf, waitStatus, watcherCaughtUp } from './chain-helpers.js';
import { createChainWorker } from '../workers/chain-worker.js';
import { createWatcherActivities } from '../activities/chain/watcher.js';

/** Block height of a mined transaction, from the devnet itself (not through the proxies). */
async function blockOf(txHash: string): Promise<number> {
  return Number((await rpc('eth_getTransactionReceipt', [txHash])).blockNumber);
}

async function processedHeight(rail = 'usdt-erc20'): Promise<number> {
  const { rows } = await h().stack.pool.query(`SELECT processed_height::text AS p FROM chain_cursors WHERE rail = $1`, [rail]);
  return Number(rows[0].p);
}

type Proxy = NonNullable<ReturnType<typeof h>['rpcProxies'][0]>;

/** The watcher has asked each node at least `n` more times since `before`: it had its chances to see the chain. */
async function nodesAsked(proxies: Proxy[], before: number[], n: number): Promise<void> {
  await eventually(async () => proxies.every((p, i) => p.requests >= before[i]! + n), 20_000, 50);
}

// The production command itself (`stablerail …`), run directly so a SIGKILL reaches the worker.
const CLI = fileURLToPath(new URL('../scripts/cli.ts', import.meta.url));

let childOutput = () => '';
function spawnChainWorker(identity: string): Promise<ChildProcess> {
  const { stack, config, bundle, dataDir } = h();
  const configPath = join(dataDir, 'chain-worker-config.json');
  writeFileSync(configPath, JSON.stringify(config));
  const bundlePath = join(dataDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'chain-worker'], {
    env: {
      ...process.env, DATABASE_URL: stack.databaseUrl, TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: stack.namespace,
      STABLERAIL_CONFIG: configPath, STABLERAIL_WORKFLOW_BUNDLE: bundlePath, STABLERAIL_WORKER_IDENTITY: identity, LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  childOutput = () => out;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`chain worker did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d.toString();
      if (out.includes('chain worker ready')) {
        clearTimeout(t);
        resolve(child);
      }
    });
    child.stderr!.on('data', (d) => { out += d.toString(); });
    child.once('exit', (code) => reject(new Error(`chain worker exited ${code}: ${out}`)));
  });
}

describe('chain watcher resilience', () => {
  it('the worker running the watcher is killed mid-stream; another takes over and nothing is counted twice', async function () {
    this.timeout(90_000);
    const { stack } = h();
    await watcherCaughtUp();
    // Move the watcher to a separate worker process, the one this test will kill.
    const child = await spawnChainWorker('doomed-worker');
    h().cleanups.push(async () => { child.kill('SIGKILL'); });
    for (const w of stack.chainWorkers) if (w.getState() === 'RUNNING') w.shutdown();
    await eventually(async () => stack.chainWorkers.every((w) => w.getState() === 'STOPPED'), 20_000, 100);
    // The child now runs the watcher: it follows a new block before the stream starts.
    await mine(1);
    await watcherCaughtUp('usdt-erc20', 30_000).catch((e) => { throw new Error(`${e}; child worker: ${childOutput().slice(-3000)}`); });

    const payments: Array<{ id: string; deposit_address: string }> = [];
    for (let i = 0; i < 6; i++) payments.push(await createPayment('7.00'));
    for (const [i, p] of payments.entries()) {
      await pay(p.deposit_address, 7_000_000n);
      if (i === 2) {
        // Mid-stream: the child has processed some of the transfers and is polling for more.
        // The child may take several blocks in one batch: the first payment is then detected and confirmed at once.
        await waitStatus(payments[0]!.id, ['detected', 'confirmed'], 30_000).catch(async (e) => {
          const dbg = await stack.pool.query(`SELECT (SELECT row_to_json(c) FROM chain_cursors c WHERE rail='usdt-erc20') cur, (SELECT json_agg(t) FROM chain_transfers t WHERE payment_id = $1) tr, (SELECT json_agg(v) FROM payment_chain_views v WHERE payment_id = $1) v, (SELECT max(height) FROM chain_blocks) mb`, [payments[0]!.id]);
          const st = await stack.client.workflow.getHandle(payments[0]!.id).query('paymentState').catch((x) => String(x));
          const ex = await stack.pool.query(`SELECT * FROM chain_exceptions`);
          throw new Error(`${e}; ${JSON.stringify(st)} ${JSON.stringify(ex.rows)} ${JSON.stringify(dbg.rows)} head ${await head()} child worker: ${childOutput().slice(-3000)}`);
        });
        child.kill('SIGKILL');
      }
    }
    await mine(3);
    // A fresh worker in this process: Temporal hands it the watcher after the heartbeat timeout.
    const w = await createChainWorker({ connection: stack.nativeConnection, namespace: stack.namespace, pool: stack.pool, config: h().config, client: stack.client, workflowBundle: h().bundle });
    const running = w.run();
    stack.chainWorkers.push(w);
    h().cleanups.push(async () => { if (w.getState() === 'RUNNING') w.shutdown(); await running; });

    for (const p of payments) {
      const done = await waitStatus(p.id, 'confirmed', 30_000);
      assert.equal(done.amount_received, '7.00');
      assert.deepEqual((await transitionsOf(p.id)).map((t) => t.to_status), ['awaiting_payment', 'detected', 'confirmed']);
      const rows = await stack.pool.query(`SELECT count(*)::int AS n FROM chain_transfers WHERE payment_id = $1`, [p.id]);
      assert.equal(rows.rows[0].n, 1);
    }
  });

  it('an RPC node that goes down fails over to the other; with both down nothing changes; when one comes back the payment confirms', async function () {
    this.timeout(60_000);
    const [a, b] = h().rpcProxies as [Proxy, Proxy];
    await watcherCaughtUp();
    try {
      a.mode = 'down';
      const p1 = await createPayment('3.00');
      await pay(p1.deposit_address, 3_000_000n);
      await mine(2);
      const served = await waitStatus(p1.id, 'confirmed'); // served by the second node
      assert.equal(served.amount_received, '3.00');
      assert.deepEqual((await transitionsOf(p1.id)).map((t) => t.to_status), ['awaiting_payment', 'detected', 'confirmed']);

      b.mode = 'down';
      const p2 = await createPayment('3.00');
      const block = await blockOf(await pay(p2.deposit_address, 3_000_000n));
      await mine(2);
      // Both nodes were tried again after the transfer was mined, several times each.
      await nodesAsked([a, b], [a.requests, b.requests], 3);
      assert.ok((await processedHeight()) < block, 'no node answers: the watcher does not move past what it has not read');
      assert.deepEqual((await transitionsOf(p2.id)).map((t) => t.to_status), ['awaiting_payment'], 'no node answers: no status changes');

      a.mode = 'up';
      const back = await waitStatus(p2.id, 'confirmed', 30_000);
      assert.equal(back.amount_received, '3.00');
      assert.deepEqual((await transitionsOf(p2.id)).map((t) => t.to_status), ['awaiting_payment', 'detected', 'confirmed']);
    } finally {
      a.mode = 'up';
      b.mode = 'up';
    }
  });

  it('a lagging node (frozen head) never produces a confirmation the chain has not reached', async function () {
    this.timeout(60_000);
    const [a, b] = h().rpcProxies as [Proxy, Proxy];
    await watcherCaughtUp();
    try {
      const p = await createPayment('2.00');
      await pay(p.deposit_address, 2_000_000n);
      await waitStatus(p.id, 'detected');
      // Only a node stuck at the transfer's block remains: two more blocks exist, it never says so.
      b.mode = 'down';
      a.frozenHead = await head();
      a.mode = 'frozen';
      await mine(5);
      // The lagging node answered its frozen head many times after the chain moved on.
      await nodesAsked([a], [a.requests], 5);
      assert.ok((await processedHeight()) <= a.frozenHead, 'the watcher never reads past the head its node reports');
      const still = await getPayment(p.id);
      assert.deepEqual([still.status, still.amount_received], ['detected', '2.00']);
      assert.deepEqual((await transitionsOf(p.id)).map((t) => t.to_status), ['awaiting_payment', 'detected']);
      a.mode = 'up';
      assert.equal((await waitStatus(p.id, 'confirmed')).amount_received, '2.00');
    } finally {
      a.mode = 'up';
      b.mode = 'up';
    }
  });

  it('a node answering garbage or hanging is retried and failed over, never a crash loop and never a false status', async function () {
    this.timeout(60_000);
    const [a, b] = h().rpcProxies as [Proxy, Proxy];
    await watcherCaughtUp();
    try {
      // Only a garbage node: the watcher refuses its answers and retries; nothing moves.
      a.mode = 'garbage';
      b.mode = 'down';
      const p = await createPayment('6.00');
      const block = await blockOf(await pay(p.deposit_address, 6_000_000n));
      await mine(3);
      // The garbage node was asked, and answered, several times after the transfer was mined.
      await nodesAsked([a], [a.requests], 5);
      assert.ok((await processedHeight()) < block, 'garbage is never ingested as chain data');
      assert.deepEqual((await transitionsOf(p.id)).map((t) => t.to_status), ['awaiting_payment'], 'garbage from a node changes no status');
      // A garbage node and a good one: the garbage answers count as failures and the good node serves.
      b.mode = 'up';
      const done = await waitStatus(p.id, 'confirmed', 30_000);
      assert.equal(done.amount_received, '6.00');
      assert.deepEqual((await transitionsOf(p.id)).map((t) => t.to_status), ['awaiting_payment', 'detected', 'confirmed']);
      // The node in use hangs: its call times out (5 s) and the other node serves.
      a.mode = 'up';
      b.mode = 'hang';
      const p2 = await createPayment('6.00');
      await pay(p2.deposit_address, 6_000_000n);
      await mine(2);
      assert.equal((await waitStatus(p2.id, 'confirmed', 30_000)).amount_received, '6.00');
    } finally {
      a.mode = 'up';
      b.mode = 'up';
    }
  });

  it('ingest attempts running at once (a worker presumed dead that is not) serialize on the cursor and count nothing twice', async function () {
    this.timeout(60_000);
    const { stack, config } = h();
    await watcherCaughtUp();
    const stale = createWatcherActivities({ pool: stack.pool, config, client: stack.client });
    const payments: Array<{ id: string; deposit_address: string }> = [];
    for (let i = 0; i < 3; i++) payments.push(await createPayment('4.00'));
    for (const p of payments) await pay(p.deposit_address, 4_000_000n);
    await mine(2);
    // Three extra attempts race the running watcher over the same blocks.
    await Promise.all([0, 1, 2].map(() => stale.ingestChain({ railId: 'usdt-erc20', cursor: null, longPollMs: 0 })));
    for (const p of payments) {
      await waitStatus(p.id, 'confirmed');
      assert.deepEqual((await transitionsOf(p.id)).map((t) => t.to_status), ['awaiting_payment', 'detected', 'confirmed']);
      const rows = await stack.pool.query(`SELECT count(*)::int AS n FROM chain_transfers WHERE payment_id = $1`, [p.id]);
      assert.equal(rows.rows[0].n, 1);
    }
  });
});
