// Webhook delivery throughput: a burst of events (10,000 by default), one delivery workflow
// each, to a receiver on loopback; deliveries per second until the last one arrives, 0 lost,
// beside the plain HTTP sender ceiling (the same keep-alive agent settings, no Temporal, no
// database) measured in the same run on the same machine.
//   npm run bench -- webhooks [--events 10000] [--ceiling 20000] [--floor] [--timeout-s 1800]
// --floor adds a third measurement: the same burst of delivery workflows to a disabled
// endpoint (no HTTP), to show what the orchestration alone costs.
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
import { createLogger } from '../../api/logger.js';
import { startDeliveries } from '../../api/webhook-commands.js';
import { deliveryIdFor } from '../../workflows/webhook-shared.js';
import { verifyWebhook } from '../../sdk/index.js';
import { devnetRails } from '../devnet-rails.js';
import { startStack } from '../stack.js';
import { installWorkerRuntime } from '../../workers/runtime.js';

function arg(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? Number(argv[i + 1]) : dflt;
}

const INSERT_BATCH_ROWS = 1_000;

export async function main(argv: string[]) {
  const events = arg(argv, 'events', 10_000);
  const ceilingRequests = arg(argv, 'ceiling', 20_000);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  installWorkerRuntime();

  // The receiver: answers 204 at once and keeps every body for verification afterwards.
  const received: Array<{ headers: http.IncomingHttpHeaders; raw: Buffer }> = [];
  const ids = new Set<string>();
  let lastAt = 0;
  let onAll: (() => void) | null = null;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      if (typeof id === 'string') {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        ids.add(id);
        lastAt = performance.now();
        if (ids.size === events) onAll?.();
      }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;

  // 1. The ceiling: plain keep-alive POSTs of a webhook-sized body, same socket bound.
  const agent = new http.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_ORIGIN_MAX });
  const body = Buffer.from(JSON.stringify({ id: newId('evt'), type: 'payment.confirmed', created_at: new Date().toISOString(), sequence: 3, data: { pad: 'x'.repeat(600) } }));
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end(body);
    });
  let sent = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: SOCKETS_PER_ORIGIN_MAX }, async () => {
    while (sent < ceilingRequests) {
      sent++;
      await post();
    }
  }));
  const ceilingPerS = ceilingRequests / ((performance.now() - t0) / 1000);
  agent.destroy();
  log(`ceiling: ${ceilingPerS.toFixed(0)} POST/s (${ceilingRequests} requests, ${SOCKETS_PER_ORIGIN_MAX} sockets)`);

  // 2. The product: embedded PostgreSQL and Temporal dev server, the webhook worker, delivery workflows.
  const root = mkdtempSync(join(tmpdir(), 'stablerail-bench-'));
  chmodSync(root, 0o755);
  const config = parseConfig(
    { base_url: 'http://127.0.0.1:0', rails: devnetRails({ mnemonic: 'test test test test test test test test test test test junk', evmRpcUrl: 'http://127.0.0.1:8545', tronRpcUrl: 'http://127.0.0.1:8546' }) },
    { base_url: 'http://127.0.0.1:0' },
  );
  const quiet = createLogger(new Writable({ write: (_c, _e, cb) => cb() }), 'warn');
  const masterKey = randomBytes(32);
  log('starting PostgreSQL, Temporal and the workers…');
  const stack = await startStack({ dataDir: join(root, 'data'), config, apiPort: 0, temporalPort: 0, logger: quiet, ephemeral: true, masterKey, api: false });
  try {
    const m = await createMerchant(stack.pool, config, 'Bench merchant', 'bench');
    const { row: ep, secret } = await createEndpoint(stack.pool, masterKey, config, { merchantId: m.id, environment: 'sandbox', actor: 'bench' }, { url }, null);
    const eventIds = Array.from({ length: events }, () => newId('evt'));
    for (let i = 0; i < events; i += INSERT_BATCH_ROWS) {
      const batch = eventIds.slice(i, i + INSERT_BATCH_ROWS);
      await stack.pool.query(
        `INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data)
         SELECT id, $2, 'sandbox', 'payment.confirmed', 'payment', 'pay_' || id, 3, '{"status":"confirmed"}'::jsonb FROM unnest($1::text[]) AS id`,
        [batch, m.id],
      );
    }
    log(`burst: ${events} events → ${events} delivery workflows`);
    const all = new Promise<void>((r) => (onAll = r));
    const t1 = performance.now();
    await startDeliveries(stack.pool, stack.client, eventIds.map((eventId) => ({ deliveryId: deliveryIdFor(eventId, ep.id), eventId, endpointId: ep.id, kind: 'automatic' as const })));
    const startedS = (performance.now() - t1) / 1000;
    log(`all workflows started in ${startedS.toFixed(1)} s; waiting for the last delivery…`);
    // Bounded: a lost delivery must show up as `lost`, not as a benchmark that never ends.
    const waitS = arg(argv, 'timeout-s', 1800);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, waitS * 1000)))]);
    clearTimeout(timer);
    const deliveredS = (lastAt - t1) / 1000;
    let verified = 0;
    for (const r of received) {
      verifyWebhook(r.raw, r.headers, secret!, { toleranceS: 3600 });
      verified++;
    }
    const lost = eventIds.filter((id) => !ids.has(id)).length;
    // 3. The orchestration floor: the same burst to a disabled endpoint. Each delivery workflow
    // still starts, runs its attempt activity (which reads the endpoint and stops) and completes,
    // but sends nothing: what Temporal and the database cost without HTTP.
    let floorPerS: number | null = null;
    if (argv.includes('--floor')) {
      const { row: off } = await createEndpoint(stack.pool, masterKey, config, { merchantId: m.id, environment: 'sandbox', actor: 'bench' }, { url }, null);
      await stack.pool.query(`UPDATE webhook_endpoints SET status = 'disabled' WHERE id = $1`, [off.id]);
      const t2 = performance.now();
      await startDeliveries(stack.pool, stack.client, eventIds.map((eventId) => ({ deliveryId: deliveryIdFor(eventId, off.id), eventId, endpointId: off.id, kind: 'automatic' as const })));
      const deadline = performance.now() + waitS * 1000;
      for (;;) {
        const { rows } = await stack.pool.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'canceled'`, [off.id]);
        if (rows[0].n === events) break;
        if (performance.now() > deadline) throw new Error(`floor: only ${rows[0].n} of ${events} delivery workflows finished in ${waitS} s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      floorPerS = Math.round(events / ((performance.now() - t2) / 1000));
      log(`orchestration floor: ${floorPerS} delivery workflows/s with no HTTP`);
    }
    const result = {
      events,
      delivered_unique: ids.size,
      requests_received: received.length,
      lost,
      verified,
      workflows_started_s: Number(startedS.toFixed(1)),
      delivered_s: Number(deliveredS.toFixed(1)),
      deliveries_per_s: Math.round(events / deliveredS),
      ceiling_post_per_s: Math.round(ceilingPerS),
      orchestration_floor_workflows_per_s: floorPerS,
      cpus: cpus().length,
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await stack.stop();
    server.closeAllConnections();
    server.close();
  }
}
