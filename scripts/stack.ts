// Brings up Stablerail's whole stack in one process: PostgreSQL (embedded unless DATABASE_URL),
// Temporal (the dev server unless TEMPORAL_ADDRESS), migrations, the payment worker and the API.
// `npm start` and the test harness both use it, so the tests run what a newcomer runs.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import type { NativeConnection, Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { connectTemporalClient, connectTemporalWorker, temporalConnectionSettings } from '../temporal-config/connection.js';
import { tracingClientInterceptors } from '../temporal-config/tracing.js';
import type { Logger } from 'pino';
import { createPool, createRelaxedPool, type Pool } from '../activities/db.js';
import type { StablerailConfig } from '../activities/config.js';
import { ensureAddressSequences } from '../activities/deposit-address.js';
import { migrate } from '../prisma/migrate.js';
import { setupTemporal } from '../temporal-config/setup.js';
import { createApp } from '../api/app.js';
import { createMetrics } from '../api/metrics.js';
import { IDEMPOTENCY_PRUNE_INTERVAL_MS, pruneIdempotencyKeys } from '../api/idempotency.js';
import { createPaymentWorker } from '../workers/payment-worker.js';
import { installWorkerRuntime } from '../workers/runtime.js';
import { TRON_STANDIN_USDT } from './devnet-rails.js';
import { createPayoutWorker } from '../workers/payout-worker.js';
import { createSigner, type SignerSpec } from '../activities/signer/index.js';
import { createWebhookWorker } from '../workers/webhook-worker.js';
import { createChainWorker, startWatchers } from '../workers/chain-worker.js';
import { hasAdapter } from '../activities/chain/adapters.js';
import { tronFromHex20 } from '../activities/chain/tron-address.js';
import { LauncherError } from './embedded/launcher-error.js';
import { startDevnet, type Devnet } from './embedded/devnet.js';
import { startTronStandin, type TronStandin } from './embedded/tron-standin.js';
import { startEmbeddedPostgres, type EmbeddedPg } from './embedded/postgres.js';
import { freePort, startTemporalDevServer, type TemporalDevServer } from './embedded/temporal.js';

export interface StackOptions {
  /** When given, /readyz answers 503 until `ready` is set (the launcher's first-run setup). */
  readiness?: { ready: boolean };
  dataDir: string;
  config: StablerailConfig;
  apiPort: number;
  temporalPort: number;
  logger: Logger;
  /** In-memory Temporal and no fsync: for tests only. */
  ephemeral?: boolean;
  workflowBundle?: WorkflowBundleWithSourceMap;
  workers?: number;
  /** Webhook delivery workers in this process (default 1; 0 when they run elsewhere). */
  webhookWorkers?: number;
  /** Seals webhook secrets at rest (AES-256-GCM): STABLERAIL_MASTER_KEY, or a file in the data dir for npm start. */
  masterKey: Buffer;
  api?: boolean;
  /** Start the local EVM devnet (anvil with the USDT-like token) before anything reads a rail. */
  devnet?: { port: number; mnemonic: string; stateFile?: string; /** The TRON stand-in's port (a stand-in, not a node). */ tronPort?: number; /** Addresses to fund (the treasury). */ fund?: string[]; /** TRON stand-in addresses to fund with TRX and the token. */ fundTron?: string[]; /** Seconds between blocks the devnet and the stand-in make on their own; omitted or 0: blocks only on demand (tests stage them). */ blockTimeS?: number };
  /** Payout workers (payouts task queue: payouts, destinations, sweeps) in this process; default 1. */
  payoutWorkers?: number;
  /** Chain workers (watcher task queue) in this process; default 1. */
  chainWorkers?: number;
  /** Start one watcher workflow per configured rail; default true. */
  watchers?: boolean;
}

export interface Stack {
  pool: Pool;
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
  temporalUiUrl: string | null;
  client: Client;
  nativeConnection: NativeConnection;
  workers: Worker[];
  chainWorkers: Worker[];
  devnet: Devnet | null;
  tronStandin: TronStandin | null;
  server: Server | null;
  apiUrl: string;
  stop(): Promise<void>;
}

const TRON_TREASURY_TRX_SUN = 100_000n * 1_000_000n; // 100,000 TRX
const TRON_TREASURY_FLOAT_MINOR = 10n ** 12n; // 1e6 USDT
/** Where the stand-in's float "comes from": the zero-equivalent TRON address, never a real wallet. */
const TRON_FLOAT_SOURCE = 'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb';

export { IDEMPOTENCY_PRUNE_INTERVAL_MS };

export async function startStack(o: StackOptions): Promise<Stack> {
  const log = (s: string) => o.logger.info(s);
  installWorkerRuntime(); // before any native connection, which would install the default runtime
  mkdirSync(o.dataDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch((e) => o.logger.error({ err: String(e) }, 'stop failed'));
    stops.length = 0;
  };
  try {
    let devnet: Devnet | null = null;
    if (o.devnet) {
      devnet = await startDevnet({ port: o.devnet.port, mnemonic: o.devnet.mnemonic, stateFile: o.devnet.stateFile, fund: o.devnet.fund, blockTimeS: o.devnet.blockTimeS, log });
      stops.push(() => devnet!.stop());
    }
    let tronStandin: TronStandin | null = null;
    if (o.devnet?.tronPort !== undefined) {
      tronStandin = await startTronStandin({ port: o.devnet.tronPort, stateFile: o.devnet.stateFile ? join(resolve(o.dataDir), 'tron-standin-state.json') : undefined, blockTimeMs: (o.devnet.blockTimeS ?? 0) * 1000 });
      stops.push(() => tronStandin!.stop());
      // The stand-in's treasury: TRX to burn for energy and bandwidth, and a token float.
      for (const addr of o.devnet.fundTron ?? []) {
        if (tronStandin.trxBalance(addr) < TRON_TREASURY_TRX_SUN / 2n) tronStandin.fundTrx(addr, TRON_TREASURY_TRX_SUN);
        if (tronStandin.tokenBalance(TRON_STANDIN_USDT, addr) < TRON_TREASURY_FLOAT_MINOR / 2n) {
          tronStandin.transfer({ token: TRON_STANDIN_USDT, from: TRON_FLOAT_SOURCE, to: addr, amountMinor: TRON_TREASURY_FLOAT_MINOR });
        }
      }
      // The devnet payer's key pays on the stand-in too (the same secp256k1 key, TRON's address form).
      if (devnet) {
        const payerTron = tronFromHex20(devnet.payerAddress);
        if (tronStandin.trxBalance(payerTron) < TRON_TREASURY_TRX_SUN / 2n) tronStandin.fundTrx(payerTron, TRON_TREASURY_TRX_SUN);
        if (tronStandin.tokenBalance(TRON_STANDIN_USDT, payerTron) < TRON_TREASURY_FLOAT_MINOR / 2n) {
          tronStandin.transfer({ token: TRON_STANDIN_USDT, from: TRON_FLOAT_SOURCE, to: payerTron, amountMinor: TRON_TREASURY_FLOAT_MINOR });
        }
      }
    }
    let pg: EmbeddedPg | null = null;
    let databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) {
      pg = await startEmbeddedPostgres({ dataDir: resolve(o.dataDir, 'pg'), port: await freePort(), log, fsync: !o.ephemeral });
      stops.push(() => pg!.stop());
      databaseUrl = pg.localUrl;
    }
    await migrate(databaseUrl, log);
    const pool = createPool(databaseUrl);
    stops.push(() => pool.end());
    await ensureAddressSequences(pool, o.config.rails);

    let temporal: TemporalDevServer | null = null;
    // TEMPORAL_ADDRESS (with its TLS and API key settings, temporal-config/connection.ts) names
    // an existing server; without it the embedded dev server starts.
    let settings = process.env.TEMPORAL_ADDRESS ? temporalConnectionSettings() : null;
    if (!settings) {
      temporal = await startTemporalDevServer({
        port: await freePort(o.temporalPort),
        namespace: o.config.temporal.namespace,
        dbFile: join(resolve(o.dataDir), 'temporal.db'),
        ui: !o.ephemeral,
        uiPort: o.temporalPort + 1,
        log,
      });
      stops.push(() => temporal!.stop());
      settings = { address: temporal.address, namespace: undefined, options: { address: temporal.address } };
    }
    const connection = await connectTemporalClient(settings);
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: o.config.temporal.namespace, interceptors: tracingClientInterceptors() });
    const nativeConnection = await connectTemporalWorker(settings);
    stops.push(() => nativeConnection.close());

    const workers: Worker[] = [];
    // Run a worker until the stack stops: shut it down, then wait for it to drain.
    const runWorker = (w: Worker, into: Worker[]) => {
      into.push(w);
      const running = w.run();
      stops.push(async () => {
        if (w.getState() === 'RUNNING') w.shutdown();
        await running;
      });
    };
    for (let i = 0; i < (o.workers ?? 1); i++) {
      runWorker(await createPaymentWorker({ connection: nativeConnection, namespace: o.config.temporal.namespace, pool, config: o.config, masterKey: o.masterKey, workflowBundle: o.workflowBundle }), workers);
    }

    // The namespace's search attributes and the reconciliation Schedule (created once, kept in
    // step with the configured interval): the same idempotent setup a production payment worker runs.
    await setupTemporal(connection, o.config.temporal.namespace, o.config);
    for (let i = 0; i < (o.webhookWorkers ?? 1); i++) {
      runWorker(await createWebhookWorker({ connection: nativeConnection, namespace: o.config.temporal.namespace, pool, config: o.config, masterKey: o.masterKey, workflowBundle: o.workflowBundle }), workers);
    }
    // Only the payout workers hold a signer: no other task queue can ask for a signature.
    const signer = o.config.payouts.signer ? await createSigner(o.config.payouts.signer as unknown as SignerSpec) : null;
    if (signer?.close) stops.push(() => signer.close!());
    for (let i = 0; i < (o.payoutWorkers ?? 1); i++) {
      const pw = await createPayoutWorker({ connection: nativeConnection, namespace: o.config.temporal.namespace, pool, config: o.config, signer, workflowBundle: o.workflowBundle });
      stops.push(async () => pw.close());
      runWorker(pw.worker, workers);
    }
    const chainWorkers: Worker[] = [];
    for (let i = 0; i < (o.chainWorkers ?? 1); i++) {
      const w = await createChainWorker({
        connection: nativeConnection, namespace: o.config.temporal.namespace, pool, config: o.config, client, workflowBundle: o.workflowBundle,
        log: (obj, msg) => o.logger.info(obj, msg),
      });
      runWorker(w, chainWorkers);
    }
    if (o.watchers !== false) {
      const watched = o.config.rails.filter((r) => hasAdapter(r.kind));
      for (const r of o.config.rails.filter((x) => !hasAdapter(x.kind))) o.logger.warn({ rail: r.id }, 'no chain adapter for this rail kind: not watched');
      await startWatchers(client, watched);
    }

    let server: Server | null = null;
    let apiUrl = '';
    if (o.api !== false) {
      const metrics = createMetrics(pool, { temporal: client });
      const relaxedPool = createRelaxedPool(databaseUrl);
      stops.push(() => relaxedPool.end());
      const app = createApp({ pool, relaxedPool, readiness: o.readiness, temporalUiUrl: temporal?.uiUrl ?? process.env.TEMPORAL_UI_URL ?? null, config: o.config, temporal: client, metrics, masterKey: o.masterKey, devnetPayer: devnet ? { privateKey: devnet.payerPrivateKey } : null }, o.logger);
      server = await new Promise<Server>((res, rej) => {
        // Express 5 hands a failed listen (a port in use) to this callback, not to an 'error' event.
        const s = app.listen(o.apiPort, '127.0.0.1', (err?: Error) => {
          if (!err) return res(s);
          rej((err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new LauncherError(`port ${o.apiPort} is in use: stop what holds it or set PORT to another one`) : err);
        });
      });
      apiUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const prune = setInterval(() => void pruneIdempotencyKeys(pool).catch(() => undefined), IDEMPOTENCY_PRUNE_INTERVAL_MS);
      prune.unref();
      stops.push(async () => {
        clearInterval(prune);
        const closed = new Promise<void>((r) => server!.close(() => r()));
        server!.closeAllConnections();
        await closed;
      });
    }

    return {
      pool,
      databaseUrl,
      temporalAddress: settings.address,
      namespace: o.config.temporal.namespace,
      temporalUiUrl: temporal?.uiUrl ?? null,
      client,
      nativeConnection,
      workers,
      chainWorkers,
      devnet,
      tronStandin,
      server,
      apiUrl,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
