// A standalone payout worker process: `node --import tsx workers/payout-worker-main.ts`.
// The only process that talks to the signer. Reads DATABASE_URL, TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, STABLERAIL_CONFIG (whose payouts.signer names the signer) and the
// signer's secret (STABLERAIL_SIGNER_PASSWORD or STABLERAIL_SIGNER_TOKEN); optionally
// STABLERAIL_WORKFLOW_BUNDLE and STABLERAIL_PAYOUT_TASK_QUEUE.
import { connectTemporalWorker, temporalConnectionSettings } from '../temporal-config/connection.js';
import { required } from './env.js';
import { createPool } from '../activities/db.js';
import { loadConfigFile } from '../activities/config.js';
import { createSigner, type SignerSpec } from '../activities/signer/index.js';
import { createPayoutWorker } from './payout-worker.js';

const config = loadConfigFile(required('STABLERAIL_CONFIG'), { base_url: process.env.STABLERAIL_BASE_URL ?? 'http://127.0.0.1:8080' });
const pool = createPool(required('DATABASE_URL'));
required('TEMPORAL_ADDRESS');
const temporal = temporalConnectionSettings();
const connection = await connectTemporalWorker(temporal);
const signer = config.payouts.signer ? await createSigner(config.payouts.signer as unknown as SignerSpec) : null;
const { worker, close } = await createPayoutWorker({
  connection,
  namespace: temporal.namespace ?? config.temporal.namespace,
  pool,
  config,
  signer,
  ...(process.env.STABLERAIL_WORKFLOW_BUNDLE ? { workflowBundle: { codePath: process.env.STABLERAIL_WORKFLOW_BUNDLE } } : {}),
  ...(process.env.STABLERAIL_PAYOUT_TASK_QUEUE ? { taskQueue: process.env.STABLERAIL_PAYOUT_TASK_QUEUE } : {}),
});
const stop = () => worker.shutdown();
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.stdout.write('payout worker ready\n');
await worker.run();
close();
await signer?.close?.();
await pool.end();
await connection.close();
