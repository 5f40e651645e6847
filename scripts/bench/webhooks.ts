// Webhook delivery throughput, as ratios to ceilings measured in the same run on the same servers:
//   1. the plain HTTP sender ceiling: keep-alive POSTs of a webhook-sized body, the same socket
//      bound, no Temporal and no database;
//   2. the bare workflow-start ceiling of the same Temporal server (a workflow type no worker
//      polls, 32 starts in flight): what one Temporal workflow per event could at best reach;
//   3. (--floor) the no-HTTP floor of a workflow per delivery: delivery workflows to a disabled
//      endpoint, so each starts, runs its attempt activity (which reads the endpoint and stops)
//      and completes, sending nothing (what the previous design paid per event);
//   4. the product path: a burst of events (10,000 by default), each with its planned delivery
//      row, handed to the first attempts exactly as recordTransition does after its commit
//      (`sendFirstAttempts`, 32 at once: the payment worker's activity slots), whatever fails
//      going to its lane workflow (`startLanes`, the ids and workflow the payment would start);
//      clock from the first hand-over to the last event received, every request verified with
//      the SDK, lost = events never received;
//   5. the same with a receiver answering 500 to the first request of every tenth event, so
//      those go through their lane and its first retry (5 s on the schedule), retries included.
//   npm run bench -- webhooks [--temporal-server] [--events 10000] [--ceiling 20000] [--bare 600] [--floor] [--floor-events 300] [--timeout-s 1800]
// The last line of output is one JSON object with the figures and their ratios.
import { temporalTarget } from './temporal-target.js';
import http from 'node:http';
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { parseConfig } from '../../activities/config.js';
import { createMerchant } from '../../activities/merchant.js';
import { createEndpoint } from '../../activities/webhooks/endpoints.js';
import { newId } from '../../activities/ids.js';
import { SOCKETS_PER_ORIGIN_MAX } from '../../activities/webhooks/http-sender.js';
import { insertDeliveries, sendFirstAttempts } from '../../activities/webhooks/delivery.js';
import { createLogger } from '../../api/logger.js';
import { startDeliveries, startLanes } from '../../api/webhook-commands.js';
import { deliveryIdFor, type PlannedDelivery } from '../../workflows/webhook-shared.js';
import { verifyWebhook } from '../../sdk/index.js';
import { devnetRails } from '../devnet-rails.js';
import { startStack, type Stack } from '../stack.js';
import { installWorkerRuntime } from '../../workers/runtime.js';
import { callsPerSecond } from './closed-loop.js';

function arg(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? Number(argv[i + 1]) : dflt;
}

const INSERT_BATCH_ROWS = 1_000;
/** The payment worker's activity slots: at most this many recording activities make first attempts at once. */
const RECORDING_ACTIVITIES_CONCURRENT = 32;
const BARE_STARTS_CONCURRENT = 32;
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

interface Receiver {
  url: string;
  /** Events received at least once, and when the last new one arrived. */
  ids: Set<string>;
  requests: Array<{ headers: http.IncomingHttpHeaders; raw: Buffer }>;
  lastNewAt: number;
  waitAll(n: number, timeoutMs: number): Promise<void>;
  close(): void;
}

/** A loopback receiver that keeps every request for verification; fail(id, nth) decides a 500. */
async function startReceiver(fail: (eventId: string, nth: number) => boolean = () => false): Promise<Receiver> {
  const seen = new Map<string, number>();
  let want = Infinity;
  let onAll: (() => void) | null = null;
  const r: Receiver = {
    url: '', ids: new Set(), requests: [], lastNewAt: 0,
    waitAll: (n, timeoutMs) => new Promise<void>((resolve) => {
      want = n;
      if (r.ids.size >= n) return resolve();
      const timer = setTimeout(resolve, timeoutMs);
      onAll = () => { clearTimeout(timer); resolve(); };
    }),
    close: () => { server.closeAllConnections(); server.close(); },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      if (typeof id !== 'string') return void res.writeHead(204).end();
      const nth = (seen.get(id) ?? 0) + 1;
      seen.set(id, nth);
      r.requests.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      if (fail(id, nth)) return void res.writeHead(500).end('try again');
      if (!r.ids.has(id)) {
        r.ids.add(id);
        r.lastNewAt = performance.now();
        if (r.ids.size >= want) onAll?.();
      }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
  return r;
}


export async function main(argv: string[]) {
  const events = arg(argv, 'events', 10_000);
  const ceilingRequests = arg(argv, 'ceiling', 20_000);
  const bareStarts = arg(argv, 'bare', 600);
  const floorEvents = arg(argv, 'floor-events', 300);
  const waitS = arg(argv, 'timeout-s', 1800);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  installWorkerRuntime();

  // 1. The plain sender ceiling.
  const plain = await startReceiver();
  const agent = new http.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_ORIGIN_MAX });
  const body = Buffer.from(JSON.stringify({ id: newId('evt'), type: 'payment.confirmed', created_at: new Date().toISOString(), sequence: 3, data: { pad: 'x'.repeat(600) } }));
  const ceilingPerS = await callsPerSecond(ceilingRequests, SOCKETS_PER_ORIGIN_MAX, (i) => new Promise<void>((resolve, reject) => {
    const req = http.request(plain.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'webhook-id': `plain-${i}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
  }));
  agent.destroy();
  plain.close();
  log(`plain sender ceiling: ${ceilingPerS.toFixed(0)} POST/s (${ceilingRequests} requests, ${SOCKETS_PER_ORIGIN_MAX} sockets)`);

  const root = mkdtempSync(join(tmpdir(), 'stablerail-bench-'));
  chmodSync(root, 0o755);
  const config = parseConfig(
    { base_url: 'http://127.0.0.1:0', rails: devnetRails({ mnemonic: 'test test test test test test test test test test test junk', evmRpcUrl: 'http://127.0.0.1:8545', tronRpcUrl: 'http://127.0.0.1:8546' }) },
    { base_url: 'http://127.0.0.1:0' },
  );
  const quiet = createLogger(new Writable({ write: (_c, _e, cb) => cb() }), 'warn');
  const masterKey = randomBytes(32);
  // The dev server by default; --temporal-server or TEMPORAL_ADDRESS measures a real one (its own ceiling below).
  const target = await temporalTarget(argv, root);
  log(`starting PostgreSQL and the workers against ${target.label}…`);
  const stack = await startStack({ dataDir: join(root, 'data'), config, apiPort: 0, temporalPort: 0, logger: quiet, ephemeral: true, masterKey, api: false, chainWorkers: 0, watchers: false, payoutWorkers: 0 });
  const receivers: Receiver[] = [];
  try {
    const m = await createMerchant(stack.pool, config, 'Bench merchant', 'bench');
    const owner = { merchantId: m.id, environment: 'sandbox' as const, actor: 'bench' };

    // 2. The bare workflow-start ceiling of this server.
    await callsPerSecond(50, 8, (i) => stack.client.workflow.start('emptyWorkflow', { taskQueue: 'bench-no-worker', workflowId: `bench-bare-warm-${i}-${Date.now()}`, args: [] }).then(() => undefined));
    const bareStartsPerS = await callsPerSecond(bareStarts, BARE_STARTS_CONCURRENT, (i) =>
      stack.client.workflow.start('emptyWorkflow', { taskQueue: 'bench-no-worker', workflowId: `bench-bare-${i}-${Date.now()}`, args: [] }).then(() => undefined));
    log(`bare workflow-start ceiling: ${bareStartsPerS.toFixed(0)} starts/s (${bareStarts}, ${BARE_STARTS_CONCURRENT} in flight)`);

    // Events, one per payment-like object (sequence 3), written in bulk: the recording is not what this measures.
    const eventIds = Array.from({ length: events }, () => newId('evt'));
    for (let i = 0; i < events; i += INSERT_BATCH_ROWS) {
      await stack.pool.query(
        `INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data)
         SELECT id, $2, 'sandbox', 'payment.confirmed', 'payment', 'pay_' || id, 3, '{"status":"confirmed"}'::jsonb FROM unnest($1::text[]) AS id`,
        [eventIds.slice(i, i + INSERT_BATCH_ROWS), m.id],
      );
    }

    // 4 and 5: the product path, to a healthy endpoint and to one failing 10% of first requests.
    const run = async (label: string, fail?: (id: string, nth: number) => boolean) => {
      const rcv = await startReceiver(fail);
      receivers.push(rcv);
      const { row: ep, secret } = await createEndpoint(stack.pool, masterKey, config, owner, { url: rcv.url }, null);
      const planned: PlannedDelivery[] = eventIds.map((eventId) => ({ deliveryId: deliveryIdFor(eventId, ep.id), eventId, endpointId: ep.id, objectId: `pay_${eventId}`, sequence: 3, ordering: 'sequence' }));
      for (let i = 0; i < events; i += INSERT_BATCH_ROWS) {
        await insertDeliveries(stack.pool, planned.slice(i, i + INSERT_BATCH_ROWS).map((p) => ({ ...p, kind: 'automatic' as const })));
      }
      log(`${label}: ${events} events → first attempts (${RECORDING_ACTIVITIES_CONCURRENT} at once), failures to their lanes…`);
      const t0 = performance.now();
      let handedToLanes = 0;
      // The lane start is the payment workflow's next command, not part of the recording
      // activity: it does not hold one of the activity slots.
      const laneStarts: Promise<void>[] = [];
      await callsPerSecond(events, RECORDING_ACTIVITIES_CONCURRENT, async (i) => {
        const after = await sendFirstAttempts({ pool: stack.pool, config, masterKey }, [planned[i]!]);
        const rest = after.filter((p) => p.first?.outcome !== 'delivered');
        handedToLanes += rest.length;
        if (rest.length > 0) laneStarts.push(startLanes(stack.client, rest));
      });
      const handedS = (performance.now() - t0) / 1000;
      await Promise.all(laneStarts);
      await rcv.waitAll(events, waitS * 1000);
      const deliveredS = (rcv.lastNewAt - t0) / 1000;
      let verified = 0;
      for (const r of rcv.requests) {
        verifyWebhook(r.raw, r.headers, secret!, { toleranceS: 3600 });
        verified++;
      }
      const lost = eventIds.filter((id) => !rcv.ids.has(id)).length;
      const perS = (events - lost) / deliveredS;
      log(`${label}: ${events - lost} delivered in ${deliveredS.toFixed(1)} s = ${perS.toFixed(0)}/s (${(perS / bareStartsPerS).toFixed(2)}x bare starts), ${lost} lost, ${rcv.requests.length} requests (${verified} verified), ${handedToLanes} to lanes; first attempts done in ${handedS.toFixed(1)} s`);
      return { perS, lost, verified, requests: rcv.requests.length, handedToLanes, deliveredS };
    };
    const healthy = await run('healthy endpoint');
    // Every tenth event, on its first request only: the receiver answers 500.
    const tenth = new Set(eventIds.filter((_, i) => i % 10 === 0));
    const failing = await run('endpoint failing 10%', (id, nth) => nth === 1 && tenth.has(id));

    // 3. The no-HTTP floor of one workflow per delivery (the previous design), on fewer events.
    let floorPerS: number | null = null;
    if (argv.includes('--floor')) floorPerS = await workflowPerDeliveryFloor(stack, masterKey, config, owner, eventIds.slice(0, floorEvents), waitS, log);

    const result = {
      bench: 'webhooks',
      events,
      delivered_per_s: round(healthy.perS),
      bare_starts_per_s: round(bareStartsPerS),
      ratio_to_bare_starts: round(healthy.perS / bareStartsPerS, 2),
      lost: healthy.lost,
      verified: healthy.verified,
      requests: healthy.requests,
      ceiling_post_per_s: Math.round(ceilingPerS),
      ratio_to_plain_sender: round(healthy.perS / ceilingPerS, 3),
      failing_10pct_delivered_per_s: round(failing.perS),
      failing_10pct_ratio_to_bare_starts: round(failing.perS / bareStartsPerS, 2),
      failing_10pct_lost: failing.lost,
      failing_10pct_requests: failing.requests,
      failing_10pct_verified: failing.verified,
      failing_10pct_lanes: failing.handedToLanes,
      workflow_per_delivery_floor_per_s: floorPerS === null ? null : round(floorPerS),
      temporal: target.label,
      cpus: cpus().length,
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await stack.stop();
    for (const r of receivers) r.close();
    await target.stop();
  }
}

async function workflowPerDeliveryFloor(stack: Stack, masterKey: Buffer, config: ReturnType<typeof parseConfig>, owner: { merchantId: string; environment: 'sandbox'; actor: string }, eventIds: string[], waitS: number, log: (s: string) => void): Promise<number> {
  const rcv = await startReceiver();
  try {
    const { row: off } = await createEndpoint(stack.pool, masterKey, config, owner, { url: rcv.url }, null);
    await stack.pool.query(`UPDATE webhook_endpoints SET status = 'disabled' WHERE id = $1`, [off.id]);
    const t0 = performance.now();
    await startDeliveries(stack.client, eventIds.map((eventId) => ({ deliveryId: deliveryIdFor(eventId, off.id), eventId, endpointId: off.id, kind: 'automatic' as const })));
    const deadline = performance.now() + waitS * 1000;
    for (;;) {
      const { rows } = await stack.pool.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'canceled'`, [off.id]);
      if (rows[0].n === eventIds.length) break;
      if (performance.now() > deadline) throw new Error(`floor: only ${rows[0].n} of ${eventIds.length} delivery workflows finished in ${waitS} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const perS = eventIds.length / ((performance.now() - t0) / 1000);
    log(`workflow-per-delivery floor: ${perS.toFixed(0)} delivery workflows/s with no HTTP (${eventIds.length})`);
    return perS;
  } finally {
    rcv.close();
  }
}
