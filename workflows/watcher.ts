// One watcher workflow per rail, workflow id `watcher-<rail id>`: Temporal's id uniqueness keeps
// exactly one running, and a dead worker's activity moves to another worker after its
// heartbeat timeout. The workflow only loops; the activity reads the chain, writes PostgreSQL
// and signals payments. It continues as new with its cursor before its history grows large.
import { continueAsNew, proxyActivities, setHandler, workflowInfo, log } from '@temporalio/workflow';
import type { WatcherActivities } from '../activities/chain/watcher.js';
import { watcherStatusQuery, type WatcherStatus, type WatcherWorkflowInput } from './shared.js';

/** Activity calls per run before continuing as new (each adds three history events). */
export const WATCHER_BATCHES_PER_RUN_MAX = 300;

const { ingestChain } = proxyActivities<WatcherActivities>({
  // A long poll is at most a few seconds, a batch of BATCH_BLOCKS_MAX blocks well under a minute.
  startToCloseTimeout: '2 minutes',
  // A worker killed mid-batch is noticed within this, and the batch runs again elsewhere.
  heartbeatTimeout: '5 seconds',
  retry: {
    initialInterval: '250 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    // No maximumAttempts: a node or database outage only delays the watcher; every step is idempotent.
    nonRetryableErrorTypes: [],
  },
});

export async function watcherWorkflow(input: WatcherWorkflowInput): Promise<void> {
  const status: WatcherStatus = { railId: input.railId, cursor: input.cursor, headHeight: null, batches: 0, lastError: null };
  setHandler(watcherStatusQuery, () => ({ ...status }));

  while (status.batches < WATCHER_BATCHES_PER_RUN_MAX && !workflowInfo().continueAsNewSuggested) {
    const r = await ingestChain({ railId: input.railId, cursor: status.cursor });
    status.batches += 1;
    status.cursor = r.cursor;
    status.headHeight = r.headHeight;
    if (r.reorgDepth > 0) log.info('reorg handled', { rail: input.railId, depth: r.reorgDepth, cursor: r.cursor });
  }
  await continueAsNew<typeof watcherWorkflow>({ railId: input.railId, cursor: status.cursor });
}
