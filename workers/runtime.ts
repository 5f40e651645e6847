// The process-wide pieces every worker shares: the SDK runtime and the one workflow bundle entry.
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, type RuntimeOptions, type WorkerOptions } from '@temporalio/worker';

let runtimeInstalled = false;

/**
 * The SDK Core's own metrics (poll latencies, task slots, schedule-to-start, sticky cache,
 * request failures: `temporal_*`), served for Prometheus on STABLERAIL_TEMPORAL_METRICS_ADDRESS
 * (host:port) by each worker process, beside the product's metrics on the API's /metrics.
 */
export function sdkTelemetry(): Pick<RuntimeOptions, 'telemetryOptions'> {
  const bindAddress = process.env.STABLERAIL_TEMPORAL_METRICS_ADDRESS;
  if (!bindAddress) return {};
  return { telemetryOptions: { metrics: { prometheus: { bindAddress, useSecondsForDurations: true } } } };
}
/** The SDK's own logs at WARN: bundling chatter at INFO would drown the JSON logs. */
export function installWorkerRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN'), ...sdkTelemetry() });
  } catch { /* already installed by the host process */ }
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/**
 * Bundled with the workflows by every worker and every prebuilt bundle, traced or not: each
 * execution decides from its own start headers whether it is traced, so turning tracing on or
 * off never changes how a running workflow replays (workflows/tracing-interceptors.ts).
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [fileURLToPath(new URL('../workflows/tracing-interceptors.ts', import.meta.url))];

/**
 * Workflow-task polling for workers that start many workflows: every payment's (and payout's)
 * first task comes from the normal queue, which the SDK's default gives 2 of 10 pollers. Measured
 * on two cores against the WAL dev server, Update-with-Start of a trivial workflow at 32 in flight:
 * 82-87/s with p99 1.1-1.4 s by default, 88-91/s with p99 0.5 s with these (docs/benchmarks.md).
 */
export const CREATION_WORKER_TUNING = {
  maxConcurrentWorkflowTaskExecutions: 64,
  maxConcurrentWorkflowTaskPolls: 20,
  nonStickyToStickyPollRatio: 1,
} as const;

/**
 * Draining on SIGTERM (a deploy): after `shutdown()` a worker stops polling and lets running
 * activities finish for up to the grace time (a webhook attempt is at most 15 s, a watcher's long
 * poll 2 s), then cancels them; past the force time it gives up and the process exits non-zero.
 */
export function workerShutdown(): { shutdownGraceTime: string; shutdownForceTime: string } {
  return {
    shutdownGraceTime: process.env.STABLERAIL_SHUTDOWN_GRACE ?? '30s',
    shutdownForceTime: process.env.STABLERAIL_SHUTDOWN_FORCE ?? '60s',
  };
}

/** The Worker Deployment every Stablerail worker kind joins when versioning is on (docs/operations.md). */
export const WORKER_DEPLOYMENT_ENV = 'STABLERAIL_WORKER_DEPLOYMENT';
export const WORKER_BUILD_ID_ENV = 'STABLERAIL_WORKER_BUILD_ID';
/**
 * A workflow type with no behavior of its own (workflows/versioning.ts names one for each) moves
 * to the current version at its next task: the product's long-lived workflows need that, and
 * patching with replay of recorded histories is what keeps the move safe.
 */
export const DEFAULT_VERSIONING_BEHAVIOR = 'AUTO_UPGRADE' as const;

/**
 * Worker Deployment Versioning, opt-in: with STABLERAIL_WORKER_DEPLOYMENT and
 * STABLERAIL_WORKER_BUILD_ID set, the worker polls as that version of the deployment, and the
 * server routes each workflow by its versioning behavior (pinned ones stay on the version they
 * started on; auto-upgrade ones move to the current version). Without them, unversioned as before.
 * One set without the other is a deploy mistake, refused at start rather than run unversioned.
 */
export function workerDeployment(env: NodeJS.ProcessEnv = process.env): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  const deploymentName = env[WORKER_DEPLOYMENT_ENV]?.trim() || undefined;
  const buildId = env[WORKER_BUILD_ID_ENV]?.trim() || undefined;
  if (!deploymentName && !buildId) return {};
  if (!deploymentName || !buildId) throw new Error(`set both ${WORKER_DEPLOYMENT_ENV} and ${WORKER_BUILD_ID_ENV} for Worker Deployment Versioning, or neither (got only ${deploymentName ? WORKER_DEPLOYMENT_ENV : WORKER_BUILD_ID_ENV})`);
  return { workerDeploymentOptions: { version: { deploymentName, buildId }, useWorkerVersioning: true, defaultVersioningBehavior: DEFAULT_VERSIONING_BEHAVIOR } };
}
