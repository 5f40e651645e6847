// Hosts the payment workflows and their activities on the payments task queue.
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Pool } from '../activities/db.js';
import type { StablerailConfig } from '../activities/config.js';
import { createPaymentActivities } from '../activities/payment.js';
import { createTreasuryActivities } from '../activities/treasury.js';
import { createReconciliationActivities } from '../activities/reconciliation.js';
import { createWebhookDispatchActivities } from '../activities/webhooks/delivery.js';
import { TASK_QUEUES } from '../workflows/shared.js';
import { installWorkerRuntime, WORKFLOWS_PATH, CREATION_WORKER_TUNING, workerShutdown, workerDeployment } from './runtime.js';
import { workerTracing } from '../temporal-config/tracing.js';

/** masterKey: the webhook signing secrets' key, so recording an event also makes its first webhook attempts. */
export function createActivities(deps: { pool: Pool; config: StablerailConfig; masterKey?: Buffer }) {
  return { ...createPaymentActivities(deps), ...createTreasuryActivities(deps), ...createReconciliationActivities(deps), ...createWebhookDispatchActivities(deps) };
}

export interface PaymentWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  pool: Pool;
  config: StablerailConfig;
  masterKey?: Buffer;
  /** Tests bundle once and share it; production bundles at start. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  identity?: string;
}

export async function createPaymentWorker(o: PaymentWorkerOptions): Promise<Worker> {
  installWorkerRuntime();
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: TASK_QUEUES.payments,
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({ pool: o.pool, config: o.config, ...(o.masterKey ? { masterKey: o.masterKey } : {}) }),
    ...(o.identity ? { identity: o.identity } : {}),
    // Bounded concurrency: two cores, and each activity holds a database connection.
    maxConcurrentActivityTaskExecutions: 32,
    ...CREATION_WORKER_TUNING,
    // The workflow interceptor module and span sink always; activity interceptors when this process traces.
    ...workerTracing(o),
    ...workerShutdown(),
    ...workerDeployment(),
  });
}
