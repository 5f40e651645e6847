// Hosts the watcher workflows and their chain activities on the chain task queue. Any number
// may run: Temporal keeps one watcher per rail and moves its work off a dead worker.
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Pool } from '../activities/db.js';
import type { RailConfig, StablerailConfig } from '../activities/config.js';
import { createWatcherActivities } from '../activities/chain/watcher.js';
import { TASK_QUEUES, watcherWorkflowId, type WatcherWorkflowInput } from '../workflows/shared.js';
import type { watcherWorkflow } from '../workflows/watcher.js';
import { WORKFLOWS_PATH, installWorkerRuntime, workerShutdown, workerDeployment } from './runtime.js';
import { workerTracing } from '../temporal-config/tracing.js';

export interface ChainWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  pool: Pool;
  config: StablerailConfig;
  client: Client;
  workflowBundle?: WorkflowBundleWithSourceMap;
  identity?: string;
  log?: (obj: Record<string, unknown>, msg: string) => void;
}

export async function createChainWorker(o: ChainWorkerOptions): Promise<Worker> {
  installWorkerRuntime();
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: TASK_QUEUES.chain,
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createWatcherActivities({ pool: o.pool, config: o.config, client: o.client, log: o.log }),
    ...(o.identity ? { identity: o.identity } : {}),
    // One long-polling activity per rail, plus room for a retry racing a stale attempt.
    maxConcurrentActivityTaskExecutions: 16,
    maxConcurrentWorkflowTaskExecutions: 16,
    // Keep a watcher's cached history on this worker only briefly, so a dead worker's watcher moves fast.
    stickyQueueScheduleToStartTimeout: '2 seconds',
    // The workflow interceptor module and span sink always; activity interceptors when this process traces.
    ...workerTracing(o),
    ...workerShutdown(),
    ...workerDeployment(),
  });
}

/** Start (or find running) the watcher of each rail. Idempotent: the workflow id is the rail's. */
export async function startWatchers(client: Client, rails: RailConfig[]): Promise<string[]> {
  const ids: string[] = [];
  for (const rail of rails) {
    const workflowId = watcherWorkflowId(rail.id);
    const input: WatcherWorkflowInput = { railId: rail.id, cursor: null };
    try {
      await client.workflow.start<typeof watcherWorkflow>('watcherWorkflow', {
        taskQueue: TASK_QUEUES.chain,
        workflowId,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    ids.push(workflowId);
  }
  return ids;
}
