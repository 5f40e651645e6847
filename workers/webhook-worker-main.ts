// A standalone webhook worker process: `node --import tsx workers/webhook-worker-main.ts`.
// Production runs any number of these beside the API; Temporal spreads deliveries over them
// and moves a dead one's work to the others. Reads DATABASE_URL, TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, STABLERAIL_CONFIG, STABLERAIL_MASTER_KEY; optionally
// STABLERAIL_WORKFLOW_BUNDLE (a prebuilt bundle file) and STABLERAIL_WEBHOOK_TASK_QUEUE.
import { connectTemporalWorker, temporalConnectionSettings } from '../temporal-config/connection.js';
import { required } from './env.js';
import { createPool } from '../activities/db.js';
import { loadConfigFile } from '../activities/config.js';
import { parseMasterKey } from '../activities/webhooks/secret-box.js';
import { createWebhookWorker } from './webhook-worker.js';

const config = loadConfigFile(required('STABLERAIL_CONFIG'), { base_url: process.env.STABLERAIL_BASE_URL ?? 'http://127.0.0.1:8080' });
const pool = createPool(required('DATABASE_URL'));
required('TEMPORAL_ADDRESS');
const temporal = temporalConnectionSettings();
const connection = await connectTemporalWorker(temporal);
const worker = await createWebhookWorker({
  connection,
  namespace: temporal.namespace ?? config.temporal.namespace,
  pool,
  config,
  masterKey: parseMasterKey(required('STABLERAIL_MASTER_KEY')),
  ...(process.env.STABLERAIL_WORKFLOW_BUNDLE ? { workflowBundle: { codePath: process.env.STABLERAIL_WORKFLOW_BUNDLE } } : {}),
  ...(process.env.STABLERAIL_WEBHOOK_TASK_QUEUE ? { taskQueue: process.env.STABLERAIL_WEBHOOK_TASK_QUEUE } : {}),
});
const stop = () => worker.shutdown();
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.stdout.write('webhook worker ready\n');
await worker.run();
await pool.end();
await connection.close();
