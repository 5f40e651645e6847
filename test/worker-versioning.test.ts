// Worker Deployment Versioning on the real Temporal dev server: the payment and chain workers
// started with STABLERAIL_WORKER_DEPLOYMENT and STABLERAIL_WORKER_BUILD_ID poll as one version of
// the deployment, `temporal worker deployment set-current-version` makes it current, and each
// workflow's execution reports that version and its type's behavior (workflows/versioning.ts).
// The rollouts of docs/operations.md: from unversioned workers to a first build (the running
// watcher moves onto it), then a second build beside the first, made current: the endless
// watcher (auto-upgrade) moves to it, a new reconciliation run (pinned) starts on it, the run
// pinned to the first build stays there, and the first build is draining.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { decodeVersioningBehavior } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import { Wallet } from 'ethers';
import { createPool, type Pool } from '../activities/db.js';
import { parseConfig, type StablerailConfig } from '../activities/config.js';
import { newRunId } from '../activities/reconciliation.js';
import { migrate } from '../prisma/migrate.js';
import { devnetRails } from '../scripts/devnet-rails.js';
import { setupTemporal } from '../temporal-config/setup.js';
import { createPaymentWorker } from '../workers/payment-worker.js';
import { createChainWorker, startWatchers } from '../workers/chain-worker.js';
import { WORKER_BUILD_ID_ENV, WORKER_DEPLOYMENT_ENV } from '../workers/runtime.js';
import { TASK_QUEUES, watcherWorkflowId } from '../workflows/shared.js';
import { eventually, h } from './harness.js';

const DEPLOYMENT = 'stablerail';

/** `temporal worker deployment …` against the suite's dev server, as an operator runs it. */
function temporalCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('temporal', ['worker', 'deployment', ...args, '--address', h().stack.temporalAddress], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

describe('worker deployment versioning (STABLERAIL_WORKER_DEPLOYMENT, STABLERAIL_WORKER_BUILD_ID)', function () {
  this.timeout(120_000);
  let pool: Pool | null = null;
  let connection: Connection | null = null;
  let client: Client | null = null;
  let config: StablerailConfig | null = null;
  let namespace = '';
  const running: Array<{ worker: Worker; done: Promise<void> }> = [];

  /** The payment and chain workers, made as build `buildId` of the deployment, or unversioned (null) as without the variables. */
  async function startBuild(buildId: string | null): Promise<void> {
    const { stack, bundle } = h();
    const saved = [process.env[WORKER_DEPLOYMENT_ENV], process.env[WORKER_BUILD_ID_ENV]];
    // The variables are set only while the workers are made: Worker.create reads its options once.
    if (buildId) {
      process.env[WORKER_DEPLOYMENT_ENV] = DEPLOYMENT;
      process.env[WORKER_BUILD_ID_ENV] = buildId;
    } else {
      delete process.env[WORKER_DEPLOYMENT_ENV];
      delete process.env[WORKER_BUILD_ID_ENV];
    }
    try {
      const made = [
        await createPaymentWorker({ connection: stack.nativeConnection, namespace, pool: pool!, config: config!, workflowBundle: bundle }),
        await createChainWorker({ connection: stack.nativeConnection, namespace, pool: pool!, config: config!, client: client!, workflowBundle: bundle }),
      ];
      for (const worker of made) running.push({ worker, done: worker.run() });
    } finally {
      if (saved[0] === undefined) delete process.env[WORKER_DEPLOYMENT_ENV];
      else process.env[WORKER_DEPLOYMENT_ENV] = saved[0];
      if (saved[1] === undefined) delete process.env[WORKER_BUILD_ID_ENV];
      else process.env[WORKER_BUILD_ID_ENV] = saved[1];
    }
  }

  /**
   * Current once the version's pollers are known on both task queues (the CLI refuses before),
   * then until the routing has reached every task queue: until then new workflows may still
   * start on the previous current version.
   */
  async function setCurrent(buildId: string): Promise<void> {
    let last = '';
    await eventually(async () => {
      const r = await temporalCli(['set-current-version', '--namespace', namespace, '--deployment-name', DEPLOYMENT, '--build-id', buildId, '--yes']);
      last = r.out;
      return r.code === 0;
    }, 30_000, 500).catch((e) => { throw new Error(`${e}: ${last}`); });
    await eventually(async () => {
      const { workerDeploymentInfo: d } = await connection!.workflowService.describeWorkerDeployment({ namespace, deploymentName: DEPLOYMENT });
      return d?.routingConfig?.currentDeploymentVersion?.buildId === buildId && d.routingConfigUpdateState === proto.temporal.api.enums.v1.RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_COMPLETED;
    }, 15_000, 100);
  }

  async function versioningOf(workflowId: string) {
    const d = await client!.workflow.getHandle(workflowId).describe();
    const v = d.raw.workflowExecutionInfo?.versioningInfo;
    return { behavior: decodeVersioningBehavior(v?.behavior), deploymentName: v?.deploymentVersion?.deploymentName ?? null, buildId: v?.deploymentVersion?.buildId ?? null };
  }

  async function reconcile(): Promise<string> {
    const runId = newRunId();
    await client!.workflow.execute('reconciliationWorkflow', {
      taskQueue: TASK_QUEUES.payments, workflowId: runId,
      args: [{ runId, environment: 'sandbox', merchantId: null, trigger: 'cli', requestedBy: 'cli:versioning-test', graceS: 0 }],
    });
    return runId;
  }

  before(async () => {
    const { stack, rpcProxies } = h();
    // A database and namespace of its own: the suite's unversioned workers poll the suite's namespace.
    const suffix = randomBytes(4).toString('hex');
    await stack.pool.query(`CREATE DATABASE versioning_${suffix}`);
    const url = new URL(stack.databaseUrl);
    url.pathname = `/versioning_${suffix}`;
    await migrate(url.toString(), () => undefined);
    pool = createPool(url.toString(), 8);
    namespace = `versioning-${suffix}`;
    const rails = devnetRails({ mnemonic: Wallet.createRandom().mnemonic!.phrase, evmRpcUrl: rpcProxies[0]!.url, tronRpcUrl: 'http://127.0.0.1:9' }).filter((r) => r.kind === 'evm');
    config = parseConfig({ base_url: 'http://127.0.0.1:0', rails, reconciliation_interval_s: 0, temporal: { namespace } }, { base_url: 'http://127.0.0.1:0' });
    connection = await Connection.connect({ address: stack.temporalAddress });
    await setupTemporal(connection, namespace, config);
    client = new Client({ connection, namespace });
  });

  after(async () => {
    await client?.workflow.getHandle(watcherWorkflowId('usdt-erc20')).terminate('versioning test done').catch(() => undefined);
    for (const r of running.splice(0)) {
      if (r.worker.getState() === 'RUNNING') r.worker.shutdown();
      await r.done.catch(() => undefined);
    }
    await connection?.close();
    await pool?.end();
  });

  it('the running watcher (auto-upgrade) moves from unversioned workers to the first current build and then to the next; reconciliation runs (pinned) start on the current build and stay on it; the replaced build drains', async () => {
    const v1 = `v1-${randomBytes(3).toString('hex')}`;
    const v2 = `v2-${randomBytes(3).toString('hex')}`;
    // Before versioning: unversioned workers, the watcher running on them.
    await startBuild(null);
    await startWatchers(client!, config!.rails);
    const watcher = watcherWorkflowId('usdt-erc20');
    await eventually(async () => (await client!.workflow.getHandle(watcher).describe()).raw.pendingActivities?.length, 15_000, 200);
    assert.equal((await versioningOf(watcher)).deploymentName, null, 'unversioned');

    // The first versioned build beside them, made current: the running watcher moves to it too.
    await startBuild(v1);
    await setCurrent(v1);
    const run1 = await reconcile();
    assert.deepEqual(await versioningOf(run1), { behavior: 'PINNED', deploymentName: DEPLOYMENT, buildId: v1 });
    await eventually(async () => (await versioningOf(watcher)).buildId === v1, 20_000, 200);
    assert.deepEqual(await versioningOf(watcher), { behavior: 'AUTO_UPGRADE', deploymentName: DEPLOYMENT, buildId: v1 });

    // The rollout: the next build beside the first, then current.
    await startBuild(v2);
    await setCurrent(v2);
    const run2 = await reconcile();
    assert.deepEqual(await versioningOf(run2), { behavior: 'PINNED', deploymentName: DEPLOYMENT, buildId: v2 });
    // The watcher never ends: at its next workflow task it moves to the current build.
    await eventually(async () => (await versioningOf(watcher)).buildId === v2, 20_000, 200);
    assert.equal((await versioningOf(watcher)).behavior, 'AUTO_UPGRADE');
    assert.equal((await versioningOf(run1)).buildId, v1, 'a pinned execution keeps the build it ran on');

    const described = await temporalCli(['describe', '--namespace', namespace, '--name', DEPLOYMENT]);
    assert.equal(described.code, 0, described.out);
    assert.match(described.out, new RegExp(`CurrentVersionBuildID\\s+${v2}`), described.out);
    // The first build drains: nothing new goes to it; its workers stop once its pinned runs end.
    assert.match(described.out, new RegExp(`${DEPLOYMENT}\\s+${v1}\\s+draining`), described.out);
  });
});
