// At-least-once under a crash: a webhook worker in its own process is SIGKILLed in the middle
// of a burst, another one starts, and every event still reaches the receiver (a duplicate
// carries the same webhook-id as the original). Attempts heartbeat, so the dead worker's
// attempts end at the heartbeat timeout (5 s), not at the attempt's 25 s start-to-close timeout.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// Default import: @temporalio/proto is CommonJS whose named exports Node cannot always detect statically.
import proto from '@temporalio/proto';
import { createEndpoint } from '../activities/webhooks/endpoints.js';
import { newId } from '../activities/ids.js';
import { startDeliveries, startLanes } from '../api/webhook-commands.js';
import { insertDeliveries } from '../activities/webhooks/delivery.js';
import { deliveryIdFor, laneIdFor, type PlannedDelivery } from '../workflows/webhook-shared.js';
import { verifyWebhook } from '../sdk/index.js';
import { eventually, h, newMerchant } from './harness.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';

const { temporal } = proto;
const TASK_QUEUE = 'webhooks-kill-test';
/** Its own queue: no worker of the first test can take a lane step of the second. */
const LANES_TASK_QUEUE = 'webhooks-kill-test-lanes';
const TimeoutType = temporal.api.enums.v1.TimeoutType;
const EVENTS = 40;
// The production command itself (`stablerail …`), run directly so a SIGKILL reaches the worker.
const CLI = fileURLToPath(new URL('../scripts/cli.ts', import.meta.url));

function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'webhook-worker'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('webhook worker ready')) resolve(child);
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before ready: ${out.slice(-2000)}`)));
  });
}

describe('webhook worker killed mid-burst', function () {
  this.timeout(200_000);
  let rcv: Receiver | null = null;
  const children: ChildProcess[] = [];
  // After each test: a worker left polling from one test would take the next test's steps, and
  // the one that test kills might then hold none in flight.
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await rcv?.close();
    rcv = null;
  });

  it('loses no event: each arrives at least once, verified, duplicates with the same webhook-id; the dead worker\'s attempts end by heartbeat timeout', async () => {
    const { stack, config, bundle, dataDir, masterKey } = h();
    // Slow answers keep the burst in flight long enough to kill the worker in the middle of it.
    rcv = await startReceiver(() => ({ status: 200, delayMs: 300 }));
    const m = await newMerchant();
    const { row: ep, secret } = await createEndpoint(stack.pool, masterKey, config, { merchantId: m.merchantId, environment: 'sandbox', actor: 'test' }, { url: rcv.url }, null);
    const eventIds: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const id = newId('evt');
      eventIds.push(id);
      await stack.pool.query(
        `INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data) VALUES ($1, $2, 'sandbox', 'payment.created', 'payment', $3, 1, $4)`,
        [id, m.merchantId, newId('pay'), JSON.stringify({ n: i })],
      );
    }
    const configFile = join(dataDir, 'kill-test-config.json');
    writeFileSync(configFile, JSON.stringify(config));
    const bundleFile = join(dataDir, 'kill-test-bundle.js');
    writeFileSync(bundleFile, bundle.code);
    const env = {
      DATABASE_URL: stack.databaseUrl,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: stack.namespace,
      STABLERAIL_CONFIG: configFile,
      STABLERAIL_MASTER_KEY: masterKey.toString('hex'),
      STABLERAIL_WORKFLOW_BUNDLE: bundleFile,
      STABLERAIL_WEBHOOK_TASK_QUEUE: TASK_QUEUE,
    };
    const first = await startWorkerProcess(env);
    children.push(first);
    await startDeliveries(stack.client, eventIds.map((eventId) => ({ deliveryId: deliveryIdFor(eventId, ep.id), eventId, endpointId: ep.id, kind: 'automatic' as const })), TASK_QUEUE);
    await eventually(async () => rcv!.received.length >= 6, 30_000, 20);
    first.kill('SIGKILL');
    // Mid-burst means deliveries were still unfinished when the worker died (some sent, unanswered or unrecorded).
    const { rows: atKill } = await stack.pool.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [ep.id]);
    assert.ok(atKill[0].n < EVENTS, `killed mid-burst (${atKill[0].n} of ${EVENTS} recorded as delivered)`);
    children.push(await startWorkerProcess(env));

    await eventually(async () => new Set(rcv!.received.map((r) => r.headers['webhook-id'])).size === EVENTS, 120_000, 250);
    const byId = new Map<string, number>();
    for (const r of rcv.received) {
      const e = verifyWebhook(r.raw, r.headers, secret!);
      assert.equal(r.headers['webhook-id'], e.id);
      byId.set(e.id, (byId.get(e.id) ?? 0) + 1);
    }
    assert.deepEqual([...byId.keys()].sort(), [...eventIds].sort());
    const done = await eventually(async () => {
      const { rows } = await stack.pool.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [ep.id]);
      return rows[0].n === EVENTS ? rows[0].n : null;
    }, 60_000, 250);
    assert.equal(done, EVENTS);

    // Every attempt the dead worker held timed out on its heartbeat, none on start-to-close.
    const timeouts: string[] = [];
    for (const eventId of eventIds) {
      const history = await stack.client.workflow.getHandle(deliveryIdFor(eventId, ep.id)).fetchHistory();
      for (const e of history.events ?? []) {
        const t = e.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo?.timeoutType;
        if (t !== undefined && t !== null) timeouts.push(TimeoutType[t] ?? String(t));
      }
    }
    assert.ok(timeouts.length >= 1, 'the killed worker held attempts in flight');
    assert.deepEqual([...new Set(timeouts)], ['TIMEOUT_TYPE_HEARTBEAT']);
  });

  it('lanes survive it too: every event arrives, each payment\'s second event never before its first, the dead worker\'s steps end by heartbeat timeout', async () => {
    const { stack, config, bundle, dataDir, masterKey } = h();
    await rcv?.close();
    rcv = await startReceiver(() => ({ status: 200, delayMs: 300 }));
    const m = await newMerchant();
    const { row: ep, secret } = await createEndpoint(stack.pool, masterKey, config, { merchantId: m.merchantId, environment: 'sandbox', actor: 'test' }, { url: rcv.url }, null);
    const PAYMENTS = EVENTS / 2;
    const planned: PlannedDelivery[] = [];
    const seqOf = new Map<string, { payId: string; seq: number }>();
    for (let i = 0; i < PAYMENTS; i++) {
      const payId = newId('pay');
      for (const [seq, type] of [[1, 'payment.created'], [2, 'payment.canceled']] as const) {
        const id = newId('evt');
        seqOf.set(id, { payId, seq });
        await stack.pool.query(
          `INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data) VALUES ($1, $2, 'sandbox', $3, 'payment', $4, $5, '{}')`,
          [id, m.merchantId, type, payId, seq],
        );
        planned.push({ deliveryId: deliveryIdFor(id, ep.id), eventId: id, endpointId: ep.id, objectId: payId, sequence: seq, ordering: 'sequence' });
      }
    }
    await insertDeliveries(stack.pool, planned.map((p) => ({ ...p, kind: 'automatic' as const })));
    const configFile = join(dataDir, 'kill-lanes-config.json');
    writeFileSync(configFile, JSON.stringify(config));
    const bundleFile = join(dataDir, 'kill-lanes-bundle.js');
    writeFileSync(bundleFile, bundle.code);
    const env = {
      DATABASE_URL: stack.databaseUrl, TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: stack.namespace, STABLERAIL_CONFIG: configFile,
      STABLERAIL_MASTER_KEY: masterKey.toString('hex'), STABLERAIL_WORKFLOW_BUNDLE: bundleFile, STABLERAIL_WEBHOOK_TASK_QUEUE: LANES_TASK_QUEUE,
    };
    const first = await startWorkerProcess(env);
    children.push(first);
    await startLanes(stack.client, planned, LANES_TASK_QUEUE);
    await eventually(async () => rcv!.received.length >= 6, 30_000, 20);
    first.kill('SIGKILL');
    children.push(await startWorkerProcess(env));
    await eventually(async () => new Set(rcv!.received.map((r) => r.headers['webhook-id'])).size === EVENTS, 120_000, 250);
    const firstSeen = new Map<string, number>();
    rcv.received.forEach((r, i) => {
      const e = verifyWebhook(r.raw, r.headers, secret!);
      if (!firstSeen.has(e.id)) firstSeen.set(e.id, i);
    });
    for (const [id, { payId, seq }] of seqOf) {
      if (seq !== 2) continue;
      const earlier = [...seqOf].find(([, v]) => v.payId === payId && v.seq === 1)![0];
      assert.ok(firstSeen.get(earlier)! < firstSeen.get(id)!, `payment ${payId}: sequence 2 arrived before sequence 1`);
    }
    const timeouts: string[] = [];
    for (const payId of new Set([...seqOf.values()].map((v) => v.payId))) {
      const handle = stack.client.workflow.getHandle(laneIdFor(payId, ep.id));
      await handle.result();
      for (const e of (await handle.fetchHistory()).events ?? []) {
        const t = e.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo?.timeoutType;
        if (t !== undefined && t !== null) timeouts.push(TimeoutType[t] ?? String(t));
      }
    }
    assert.ok(timeouts.length >= 1, 'the killed worker held lane steps in flight');
    assert.deepEqual([...new Set(timeouts)], ['TIMEOUT_TYPE_HEARTBEAT']);
    const { rows } = await stack.pool.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [ep.id]);
    assert.equal(rows[0].n, EVENTS);
  });
});
