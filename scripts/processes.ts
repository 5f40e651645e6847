// The production processes behind `stablerail api|worker|chain-worker|webhook-worker|payout-worker`
// and `stablerail temporal setup`. Each reads only the environment named in README's
// "Production" section, so the topology test and an operator start exactly the same thing.
// Every process drains on SIGTERM or SIGINT: the API stops accepting and finishes the requests
// in flight, a worker stops polling and lets running tasks finish within its shutdown grace
// (workers/runtime.ts), then the process exits 0.
import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createPool, createRelaxedPool } from '../activities/db.js';
import type { StablerailConfig } from '../activities/config.js';
import { ensureAddressSequences } from '../activities/deposit-address.js';
import { hasAdapter } from '../activities/chain/adapters.js';
import { createSigner, type SignerSpec } from '../activities/signer/index.js';
import { createApp } from '../api/app.js';
import { createLogger } from '../api/logger.js';
import { createMetrics } from '../api/metrics.js';
import { IDEMPOTENCY_PRUNE_INTERVAL_MS, pruneIdempotencyKeys } from '../api/idempotency.js';
import { createPaymentWorker } from '../workers/payment-worker.js';
import { createWebhookWorker } from '../workers/webhook-worker.js';
import { createPayoutWorker } from '../workers/payout-worker.js';
import { createChainWorker, startWatchers } from '../workers/chain-worker.js';
import { installWorkerRuntime } from '../workers/runtime.js';
import { setupTemporal } from '../temporal-config/setup.js';
import { connectTemporalClient, connectTemporalWorker, type TemporalConnectionSettings } from '../temporal-config/connection.js';
import { startTracing, stopTracing, tracingClientInterceptors, type ProcessKind } from '../temporal-config/tracing.js';

export interface ProcessEnv {
  config: StablerailConfig;
  databaseUrl: string;
  /** Address, namespace, TLS and API key from the environment or a temporal.toml profile (temporal-config/connection.ts). */
  temporal: TemporalConnectionSettings;
  masterKey: () => Buffer;
  /** Runs `stablerail migrate` in a child (the API and the payment worker do, at start). */
  migrate: () => void;
}

/** How long the API lets in-flight requests finish after SIGTERM before it cuts connections. */
export const API_DRAIN_MS_DEFAULT = 30_000;

/** The profile's or TEMPORAL_NAMESPACE's namespace, else the config file's. */
export const temporalNamespace = (env: Pick<ProcessEnv, 'config' | 'temporal'>): string => env.temporal.namespace ?? env.config.temporal.namespace;

function bundleOption(): { workflowBundle?: { codePath: string } } {
  // Tests pass a prebuilt bundle (STABLERAIL_WORKFLOW_BUNDLE) so each process skips bundling.
  return process.env.STABLERAIL_WORKFLOW_BUNDLE ? { workflowBundle: { codePath: process.env.STABLERAIL_WORKFLOW_BUNDLE } } : {};
}

const identityOption = (): { identity?: string } => (process.env.STABLERAIL_WORKER_IDENTITY ? { identity: process.env.STABLERAIL_WORKER_IDENTITY } : {});

/**
 * The process's logger, and its tracer provider when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set:
 * before the Temporal client and workers exist, since they take their interceptors at creation.
 */
function startProcess(kind: ProcessKind): Logger {
  const logger = createLogger();
  const tracing = startTracing(kind);
  if (tracing) logger.info({ service_name: tracing.serviceName }, 'tracing to OTLP');
  return logger;
}

/** Resolves at the first SIGTERM or SIGINT (Ctrl-C in a terminal signals the whole group). */
function stopSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((res) => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) {
      process.once(s, () => {
        logger.info({ signal: s }, 'draining');
        res(s);
      });
    }
  });
}

/** Run workers until a stop signal, then shut them down and wait for them to drain. */
async function runWorkers(logger: Logger, workers: Worker[], ready: string): Promise<void> {
  const running = workers.map((w) => w.run());
  // The deployment version (STABLERAIL_WORKER_DEPLOYMENT/BUILD_ID), so a rollout's log shows which build polls.
  const version = workers[0]?.options.workerDeploymentOptions?.version;
  logger.info({ task_queues: workers.map((w) => w.options.taskQueue), ...(version ? { deployment: version.deploymentName, build_id: version.buildId } : {}) }, ready);
  // A worker that fails on its own (lost namespace, fatal poll error) ends the process too.
  const failed = Promise.race(running).then(() => undefined);
  await Promise.race([stopSignal(logger), failed]);
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  await Promise.all(running);
  logger.info({}, 'drained');
}

async function connectNative(settings: TemporalConnectionSettings): Promise<NativeConnection> {
  // The runtime (logging, telemetry) must be installed before the first native connection.
  installWorkerRuntime();
  return connectTemporalWorker(settings);
}

/** `stablerail api`: PORT (default 8080), STABLERAIL_API_HOST (default 127.0.0.1). */
export async function runApi(env: ProcessEnv): Promise<number> {
  const logger = startProcess('api');
  const pool = createPool(env.databaseUrl);
  const relaxedPool = createRelaxedPool(env.databaseUrl);
  env.migrate();
  await ensureAddressSequences(pool, env.config.rails);
  const connection = await connectTemporalClient(env.temporal);
  const client = new Client({ connection, namespace: temporalNamespace(env), interceptors: tracingClientInterceptors() });
  // /readyz answers 503 while draining, so a load balancer stops sending before the socket closes.
  const readiness = { ready: true };
  const app = createApp({ pool, relaxedPool, readiness, temporalUiUrl: process.env.TEMPORAL_UI_URL ?? null, config: env.config, temporal: client, metrics: createMetrics(pool, { temporal: client }), masterKey: env.masterKey() }, logger);
  const server = await new Promise<Server>((res, rej) => {
    // Express 5 hands a failed listen (a port in use) to this callback, not to an 'error' event.
    const s = app.listen(Number(process.env.PORT ?? 8080), process.env.STABLERAIL_API_HOST ?? '127.0.0.1', (err?: Error) => (err ? rej(err) : res(s)));
  });
  logger.info({ port: (server.address() as { port: number }).port }, 'api listening');
  const prune = setInterval(() => void pruneIdempotencyKeys(pool).catch(() => undefined), IDEMPOTENCY_PRUNE_INTERVAL_MS);
  prune.unref();
  await stopSignal(logger);
  clearInterval(prune);
  readiness.ready = false;
  await drainHttp(server, Number(process.env.STABLERAIL_DRAIN_MS ?? API_DRAIN_MS_DEFAULT));
  logger.info({}, 'drained');
  await connection.close();
  await relaxedPool.end();
  await pool.end();
  await stopTracing();
  return 0;
}

/**
 * Stop accepting, let requests in flight finish, close keep-alive sockets as they go idle, and
 * cut whatever is left after `boundMs` (a client holding a socket open must not block a deploy).
 */
export async function drainHttp(server: Server, boundMs: number): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  const cut = setTimeout(() => server.closeAllConnections(), boundMs);
  await closed;
  clearInterval(idle);
  clearTimeout(cut);
}

/**
 * `stablerail worker`: the payments task queue (payment and reconciliation workflows). At start
 * it migrates and registers the namespace's search attributes and Schedules (idempotent).
 */
export async function runPaymentWorker(env: ProcessEnv): Promise<number> {
  const logger = startProcess('worker');
  const pool = createPool(env.databaseUrl);
  env.migrate();
  await ensureAddressSequences(pool, env.config.rails);
  const namespace = temporalNamespace(env);
  const native = await connectNative(env.temporal);
  const connection = await connectTemporalClient(env.temporal);
  const setup = await setupTemporal(connection, namespace, env.config, (o, m) => logger.info(o, m));
  logger.info(setup, 'temporal setup');
  // With the master key the payment worker signs and sends each event's first webhook attempt
  // itself; without it every delivery is handed to the webhook worker's lanes.
  const worker = await createPaymentWorker({ connection: native, namespace, pool, config: env.config, ...(process.env.STABLERAIL_MASTER_KEY ? { masterKey: env.masterKey() } : {}), ...bundleOption(), ...identityOption() } as Parameters<typeof createPaymentWorker>[0]);
  await runWorkers(logger, [worker], 'payment worker ready');
  await connection.close();
  await native.close();
  await pool.end();
  await stopTracing();
  return 0;
}

/** `stablerail chain-worker`: the watcher task queue; starts (or finds) one watcher per rail. */
export async function runChainWorker(env: ProcessEnv): Promise<number> {
  const logger = startProcess('chain-worker');
  const pool = createPool(env.databaseUrl, 8);
  const namespace = temporalNamespace(env);
  const native = await connectNative(env.temporal);
  const connection = await connectTemporalClient(env.temporal);
  const client = new Client({ connection, namespace, interceptors: tracingClientInterceptors() });
  const worker = await createChainWorker({
    connection: native, namespace, pool, config: env.config, client, ...bundleOption(), ...identityOption(),
    log: (obj, msg) => logger.info(obj, msg),
  } as Parameters<typeof createChainWorker>[0]);
  const watched = env.config.rails.filter((r) => hasAdapter(r.kind));
  for (const r of env.config.rails.filter((x) => !hasAdapter(x.kind))) logger.warn({ rail: r.id }, 'no chain adapter for this rail kind: not watched');
  if (process.env.STABLERAIL_START_WATCHERS !== '0') await startWatchers(client, watched);
  await runWorkers(logger, [worker], 'chain worker ready');
  await connection.close();
  await native.close();
  await pool.end();
  await stopTracing();
  return 0;
}

/** `stablerail webhook-worker`: the webhooks task queue; needs STABLERAIL_MASTER_KEY. */
export async function runWebhookWorker(env: ProcessEnv): Promise<number> {
  const logger = startProcess('webhook-worker');
  const pool = createPool(env.databaseUrl);
  const native = await connectNative(env.temporal);
  const worker = await createWebhookWorker({
    connection: native, namespace: temporalNamespace(env), pool, config: env.config, masterKey: env.masterKey(), ...bundleOption(), ...identityOption(),
    ...(process.env.STABLERAIL_WEBHOOK_TASK_QUEUE ? { taskQueue: process.env.STABLERAIL_WEBHOOK_TASK_QUEUE } : {}),
  });
  await runWorkers(logger, [worker], 'webhook worker ready');
  await native.close();
  await pool.end();
  await stopTracing();
  return 0;
}

/** `stablerail payout-worker`: the payouts task queue, the only process that talks to the signer. */
export async function runPayoutWorker(env: ProcessEnv): Promise<number> {
  const logger = startProcess('payout-worker');
  const pool = createPool(env.databaseUrl);
  const native = await connectNative(env.temporal);
  const signer = env.config.payouts.signer ? await createSigner(env.config.payouts.signer as unknown as SignerSpec) : null;
  if (!signer) logger.warn({}, 'no payouts.signer configured: payouts will fail with signer_not_configured');
  const { worker, close } = await createPayoutWorker({
    connection: native, namespace: temporalNamespace(env), pool, config: env.config, signer, ...bundleOption(), ...identityOption(),
    ...(process.env.STABLERAIL_PAYOUT_TASK_QUEUE ? { taskQueue: process.env.STABLERAIL_PAYOUT_TASK_QUEUE } : {}),
  } as Parameters<typeof createPayoutWorker>[0]);
  await runWorkers(logger, [worker], 'payout worker ready');
  close();
  await signer?.close?.();
  await native.close();
  await pool.end();
  await stopTracing();
  return 0;
}

/** `stablerail temporal setup`: the namespace (if missing), its search attributes and the Schedules. */
export async function runTemporalSetup(env: Omit<ProcessEnv, 'databaseUrl' | 'masterKey' | 'migrate'>): Promise<number> {
  const connection = await connectTemporalClient(env.temporal);
  try {
    const r = await setupTemporal(connection, temporalNamespace(env), env.config, (o, m) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`));
    console.log(JSON.stringify(r, null, 2));
    return 0;
  } finally {
    await connection.close();
  }
}
