// A standalone chain worker process: `node --import tsx workers/chain-worker-main.ts` with
// DATABASE_URL, TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE) and STABLERAIL_CONFIG. Run as many as
// wanted: Temporal keeps one watcher per rail among them and moves it off one that dies.
// STABLERAIL_WORKFLOW_BUNDLE may name a prebuilt workflow bundle (the tests pass theirs).
import { Client } from '@temporalio/client';
import { connectTemporalClient, connectTemporalWorker, temporalConnectionSettings } from '../temporal-config/connection.js';
import { createPool } from '../activities/db.js';
import { loadConfigFile } from '../activities/config.js';
import { createLogger } from '../api/logger.js';
import { createChainWorker, startWatchers } from './chain-worker.js';
import { hasAdapter } from '../activities/chain/adapters.js';

const need = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};
const logger = createLogger();
const config = loadConfigFile(need('STABLERAIL_CONFIG'), { base_url: process.env.STABLERAIL_BASE_URL ?? 'http://127.0.0.1:8080' });
need('TEMPORAL_ADDRESS');
const temporal = temporalConnectionSettings();
const namespace = temporal.namespace ?? config.temporal.namespace;
const pool = createPool(need('DATABASE_URL'), 8);
const client = new Client({ connection: await connectTemporalClient(temporal), namespace });
const connection = await connectTemporalWorker(temporal);
const bundlePath = process.env.STABLERAIL_WORKFLOW_BUNDLE;
const worker = await createChainWorker({
  connection, namespace, pool, config, client,
  ...(bundlePath ? { workflowBundle: { codePath: bundlePath } as never } : {}),
  identity: process.env.STABLERAIL_WORKER_IDENTITY,
  log: (obj, msg) => logger.info(obj, msg),
});
if (process.env.STABLERAIL_START_WATCHERS !== '0') await startWatchers(client, config.rails.filter((r) => hasAdapter(r.kind)));
const running = worker.run();
logger.info({ identity: process.env.STABLERAIL_WORKER_IDENTITY ?? null }, 'chain worker ready');
const stop = () => worker.shutdown();
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
await running;
await pool.end();
await connection.close();
