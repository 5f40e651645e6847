// Hosts the payout, payout-destination and sweep workflows and their activities (records,
// the signer-backed sends, webhook dispatch) on the payouts task queue. Only this worker
// talks to the signer: the other task queues never see a signature request.
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Pool } from '../activities/db.js';
import type { StablerailConfig } from '../activities/config.js';
import { createPayoutRecordActivities } from '../activities/payout.js';
import { createDestinationActivities } from '../activities/payout-destination.js';
import { createSendActivities } from '../activities/chain/send.js';
import { RailSenders } from '../activities/chain/senders.js';
import { createSweepActivities } from '../activities/sweep.js';
import { createWebhookDispatchActivities } from '../activities/webhooks/delivery.js';
import type { Signer } from '../activities/signer/signer.js';
import { PAYOUT_TASK_QUEUE } from '../workflows/payout-shared.js';
import { installWorkerRuntime, WORKFLOWS_PATH, workerShutdown, workerDeployment } from './runtime.js';
import { workerTracing } from '../temporal-config/tracing.js';

export interface PayoutWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  pool: Pool;
  config: StablerailConfig;
  signer: Signer | null;
  workflowBundle?: WorkflowBundleWithSourceMap | { codePath: string };
  taskQueue?: string;
  identity?: string;
}

export function createPayoutActivities(deps: { pool: Pool; config: StablerailConfig; signer: Signer | null; senders: RailSenders }) {
  return {
    ...createPayoutRecordActivities(deps),
    ...createDestinationActivities(deps),
    ...createSendActivities(deps),
    ...createSweepActivities(deps),
    ...createWebhookDispatchActivities(deps),
  };
}

/**
 * Name each rail's treasury wallet, as the signer derives it, so the watcher records every
 * token transfer leaving it (the provider truth payouts reconcile against).
 */
export async function registerTreasuryWallets(pool: Pool, config: StablerailConfig, signer: Signer): Promise<void> {
  for (const rail of config.rails) {
    const address = await signer.address({ rail: rail.id, kind: rail.kind, role: 'treasury' });
    await pool.query(`INSERT INTO treasury_wallets (rail, address) VALUES ($1, $2) ON CONFLICT (rail) DO UPDATE SET address = EXCLUDED.address`, [rail.id, address]);
  }
}

export async function createPayoutWorker(o: PayoutWorkerOptions): Promise<{ worker: Worker; close(): void }> {
  installWorkerRuntime();
  if (o.signer) await registerTreasuryWallets(o.pool, o.config, o.signer);
  const senders = new RailSenders();
  const worker = await Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue ?? PAYOUT_TASK_QUEUE,
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createPayoutActivities({ pool: o.pool, config: o.config, signer: o.signer, senders }),
    ...(o.identity ? { identity: o.identity } : {}),
    // Receipt polls hold a slot each while they wait; signing is serialized per address anyway.
    maxConcurrentActivityTaskExecutions: 32,
    maxConcurrentWorkflowTaskExecutions: 32,
    // The workflow interceptor module and span sink always; activity interceptors when this process traces.
    ...workerTracing(o),
    ...workerShutdown(),
    ...workerDeployment(),
  });
  return { worker, close: () => senders.close() };
}
