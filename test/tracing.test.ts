// OpenTelemetry across the production processes: `stablerail api` and `stablerail worker`, each
// a separate OS process (against a database and namespace of their own, so the suite's in-process
// worker never takes their tasks), with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT naming a loopback
// OTLP/HTTP receiver in this test. The worker bundles its workflows itself, as in production, so
// the workflow interceptors it bundles are the ones tracing installs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Wallet } from 'ethers';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { workerTracing } from '../temporal-config/tracing.js';
import { createPool, type Pool } from '../activities/db.js';
import { createApiKey, createMerchant, SCOPES } from '../activities/merchant.js';
import { parseConfig } from '../activities/config.js';
import { devnetRails } from '../scripts/devnet-rails.js';
import { freePort } from '../scripts/embedded/temporal.js';
import { eventually, h } from './harness.js';
import { spawnStablerail, type Proc } from './stablerail-process.js';

/** One span as the receiver got it, with the service.name of the process that sent it. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** A loopback OTLP/HTTP receiver: what a collector's `otlp` receiver accepts on /v1/traces, as JSON. */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const raw = Buffer.concat(chunks);
      const body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'));
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a: { key: string }) => a.key === 'service.name')?.value?.stringValue ?? '';
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            const attributes: Record<string, unknown> = {};
            for (const a of s.attributes ?? []) attributes[a.key] = Object.values(a.value ?? {})[0];
            spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: s.kind, attributes });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/v1/traces`, spans, close: () => new Promise((r) => server.close(() => r())) };
}

const procs: Proc[] = [];
const stablerail = (cmd: string, env: Record<string, string>, readyText: string): Promise<Proc> => spawnStablerail(procs, cmd, env, readyText);

const OTLP_SPAN_KIND_SERVER = 2;

describe('tracing (OpenTelemetry from the HTTP request through the workflow to its activities)', function () {
  this.timeout(240_000);
  let pool: Pool | null = null;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | null = null;

  after(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.pid) {
        try { process.kill(-p.child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    await pool?.end();
    await receiver?.close();
  });

  it('POST /v1/payments is one trace across the API and the worker: request span → Update-with-Start → the workflow run and its create handler → the activity\'s schedule → the activity writing the row; the traced execution replays on an untraced worker', async () => {
    const { stack, dataDir, rpcProxies } = h();
    receiver = await startReceiver();
    const suffix = randomBytes(4).toString('hex');
    const database = `trace_${suffix}`;
    await stack.pool.query(`CREATE DATABASE ${database}`);
    const dbUrl = new URL(stack.databaseUrl);
    dbUrl.pathname = `/${database}`;
    const namespace = `trace-${suffix}`;
    const rails = devnetRails({ mnemonic: Wallet.createRandom().mnemonic!.phrase, evmRpcUrl: rpcProxies[0]!.url, tronRpcUrl: 'http://127.0.0.1:9' }).filter((r) => r.kind === 'evm');
    const port = await freePort();
    // A closed payment's workflow ends after monitor_after_close_s, so its RunWorkflow span is exported in the test's time.
    const rawConfig = { base_url: `http://127.0.0.1:${port}`, rails, reconciliation_interval_s: 3600, monitor_after_close_s: 1, temporal: { namespace } };
    const config = parseConfig(rawConfig, { base_url: rawConfig.base_url });
    const configFile = join(dataDir, `trace-${suffix}.json`);
    writeFileSync(configFile, JSON.stringify(rawConfig));
    const env = {
      DATABASE_URL: dbUrl.toString(), TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: namespace,
      STABLERAIL_CONFIG: configFile, STABLERAIL_MASTER_KEY: randomBytes(32).toString('hex'),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
      // The standard batch delay is 5 s; the test need not wait for it.
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };

    const apiProc = await stablerail('api', { ...env, PORT: String(port) }, 'api listening');
    const workerProc = await stablerail('worker', env, 'payment worker ready');
    assert.match(apiProc.out(), /"service_name":"stablerail-api".*"msg":"tracing to OTLP"/);
    assert.match(workerProc.out(), /"service_name":"stablerail-worker".*"msg":"tracing to OTLP"/);
    pool = createPool(env.DATABASE_URL, 2);
    const m = await createMerchant(pool, config, 'Traced merchant', 'test');
    const key = (await createApiKey(pool, m.id, 'sandbox', [...SCOPES], 'test')).secret;
    const call = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() as any };
    };

    // A probe first: not traced (it would be a span every few seconds per load balancer).
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    const created = await call('POST', '/v1/payments', { amount: '12.50', rail: 'usdt-erc20', reference: `trace-${suffix}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // Cancelling closes the payment, so the workflow ends and its run span leaves the worker too.
    const cancelled = await call('POST', `/v1/payments/${created.body.id}/cancel`, {});
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));

    const spans = receiver.spans;
    const named = (service: string, name: string, traceId?: string) => spans.filter((s) => s.service === service && s.name === name && (!traceId || s.traceId === traceId));
    const one = (service: string, name: string, traceId?: string): ReceivedSpan => {
      const found = named(service, name, traceId);
      assert.equal(found.length, 1, `one ${service} span ${name}${traceId ? ` in trace ${traceId}` : ''}; got: ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
      return found[0]!;
    };
    // The creating request's trace: its root is the API's span for the route.
    const request = await eventually(async () => named('stablerail-api', 'POST /v1/payments')[0], 30_000, 100);
    const trace = request.traceId;
    assert.match(trace, /^[0-9a-f]{32}$/);
    assert.equal(request.parentSpanId, '', 'the request starts its trace');
    assert.equal(request.kind, OTLP_SPAN_KIND_SERVER);
    assert.equal(request.attributes['http.route'], '/v1/payments');
    assert.equal(Number(request.attributes['http.response.status_code']), 201);
    // The probe ended before the request began, and the API exports its spans in the order they
    // end, so had the probe been traced its span would be here by now.
    assert.deepEqual(spans.filter((s) => s.service === 'stablerail-api' && /healthz/.test(s.name)), [], 'probes are not traced');
    // The API's log line for the request carries the trace id, the way from a log to its trace.
    const logLine = await eventually(async () => apiProc.out().split('\n').filter((l) => l.includes('"msg":"request"')).map((l) => JSON.parse(l)).find((l) => l.route === '/v1/payments' && l.method === 'POST'), 5_000, 50);
    assert.equal(logLine.trace_id, trace, 'the request log names the trace');

    // Everything the worker sends for this payment, once the workflow ended after the cancel.
    const run = await eventually(async () => named('stablerail-worker', 'RunWorkflow:paymentWorkflow', trace)[0], 60_000, 200)
      .catch((e) => { throw new Error(`${e}; spans: ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}; worker: ${workerProc.out().slice(-2000)}`); });
    const uws = one('stablerail-api', 'UpdateWithStartWorkflow:createPayment', trace);
    const handler = one('stablerail-worker', 'HandleUpdate:createPayment', trace);
    const start = one('stablerail-worker', 'StartActivity:createPaymentRecord', trace);
    const activity = await eventually(async () => named('stablerail-worker', 'RunActivity:createPaymentRecord', trace)[0], 15_000, 100);

    assert.equal(uws.parentSpanId, request.spanId, 'the Temporal call is a child of the request');
    assert.equal(uws.attributes.temporalWorkflowId, created.body.id, 'the Update-with-Start names the payment\'s workflow');
    assert.equal(run.parentSpanId, uws.spanId, 'the workflow run continues the start\'s context from its headers');
    assert.equal(handler.parentSpanId, uws.spanId, 'the create handler continues the update\'s context from its headers');
    assert.equal(start.parentSpanId, handler.spanId, 'the handler schedules the activity that writes the row');
    assert.equal(activity.parentSpanId, start.spanId, 'the activity runs under the workflow\'s schedule span');
    // And one trace id throughout, across both processes.
    for (const s of [uws, run, handler, start, activity]) assert.equal(s.traceId, trace, `${s.name} is in the request's trace`);

    // The cancel is its own request and so its own trace, reaching the same workflow.
    const cancelReq = await eventually(async () => named('stablerail-api', 'POST /v1/payments/:id/cancel')[0], 15_000, 100);
    assert.notEqual(cancelReq.traceId, trace);
    const cancelUpdate = one('stablerail-api', 'StartWorkflowUpdate:cancelPayment', cancelReq.traceId);
    assert.equal(cancelUpdate.parentSpanId, cancelReq.spanId);
    const cancelHandler = await eventually(async () => named('stablerail-worker', 'HandleUpdate:cancelPayment', cancelReq.traceId)[0], 15_000, 100);
    assert.equal(cancelHandler.parentSpanId, cancelUpdate.spanId);

    // A traced execution replays the same on a worker that does not trace (the suite's bundle
    // and a dropping sink, as an untraced worker has), so a fleet may turn tracing on one process
    // at a time. (Histories made without tracing replay with the module bundled: test/unit/history-fixtures.)
    const connection = await Connection.connect({ address: stack.temporalAddress });
    try {
      const history = await new Client({ connection, namespace }).workflow.getHandle(created.body.id).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: h().bundle, replayName: created.body.id, ...workerTracing({ workflowBundle: h().bundle }) }, history);
    } finally {
      await connection.close();
    }
  });
});
