// Hosts webhook delivery workflows and their HTTP attempts on the webhooks task queue, apart
// from payments: a slow or failing receiver fills this queue's slots, never the payments'.
import type { NativeConnection, Worker, WorkflowBundleOption } from '@temporalio/worker';
import { Worker as TemporalWorker } from '@temporalio/worker';
import type { Pool } from '../activities/db.js';
import type { StablerailConfig } from '../activities/config.js';
import { createWebhookDeliveryActivities } from '../activities/webhooks/delivery.js';
import { TASK_QUEUES } from '../workflows/shared.js';
import { installWorkerRuntime, WORKFLOWS_PATH, workerShutdown, workerDeployment } from './runtime.js';
import { workerTracing } from '../temporal-config/tracing.js';

/** Attempts in flight per worker: each holds a socket and, briefly, a database connection. */
export const WEBHOOK_ATTEMPTS_CONCURRENT_MAX = 64;

export interface WebhookWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  pool: Pool;
  config: StablerailConfig;
  masterKey: Buffer;
  workflowBundle?: WorkflowBundleOption;
  /** Tests run deliveries on a queue of their own. */
  taskQueue?: string;
  identity?: string;
}

export async function createWebhookWorker(o: WebhookWorkerOptions): Promise<Worker> {
  installWorkerRuntime();
  return TemporalWorker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue ?? TASK_QUEUES.webhooks,
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createWebhookDeliveryActivities({ pool: o.pool, config: o.config, masterKey: o.masterKey }),
    ...(o.identity ? { identity: o.identity } : {}),
    maxConcurrentActivityTaskExecutions: WEBHOOK_ATTEMPTS_CONCURRENT_MAX,
    maxConcurrentWorkflowTaskExecutions: 64,
    // The workflow interceptor module and span sink always; activity interceptors when this process traces.
    ...workerTracing(o),
    ...workerShutdown(),
    ...workerDeployment(),
  });
}
