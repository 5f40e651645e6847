// Each workflow type's Worker Deployment Versioning behavior, in one table. It matters only when
// the workers run versioned (STABLERAIL_WORKER_DEPLOYMENT and STABLERAIL_WORKER_BUILD_ID,
// workers/runtime.ts); unversioned workers ignore it.
//
// PINNED: the run stays on the build it started on, so a change needs no patch, but the old
// workers must run until every pinned run has ended. Only for runs bounded to minutes or hours.
// AUTO_UPGRADE: the run moves to the current build at its next workflow task, so the change must
// be replay-safe (patched(), checked by the recorded histories): the only choice for workflows
// that live for days or never end, whose old workers could otherwise never be stopped.
import type { VersioningBehavior } from '@temporalio/common';

export const WORKFLOW_VERSIONING: Readonly<Record<string, VersioningBehavior>> = {
  // Lives through its window (up to 7 days) and monitor_after_close_s (24 h) after it.
  paymentWorkflow: 'AUTO_UPGRADE',
  // Approval window (7 days), then broadcast to finality; its refund children likewise.
  payoutWorkflow: 'AUTO_UPGRADE',
  // Waits for an operator's decision and the cooling-off (a day by default).
  payoutDestinationWorkflow: 'AUTO_UPGRADE',
  // Never ends: one per rail, continuing as new every 300 batches.
  watcherWorkflow: 'AUTO_UPGRADE',
  // The retry schedule runs for three days.
  webhookDeliveryWorkflow: 'AUTO_UPGRADE',
  // Lives as long as its endpoint keeps failing, continuing as new.
  webhookLaneWorkflow: 'AUTO_UPGRADE',
  // Writes a recovery's rows and starts or wakes its lanes: seconds.
  webhookRecoveryWorkflow: 'PINNED',
  // One run over the break classes: minutes.
  reconciliationWorkflow: 'PINNED',
  // One planning activity the API waits for.
  sweepPlanWorkflow: 'PINNED',
  // Bounded by its sends (each activity at most 2 hours); a mid-sweep change of the send
  // sequence is safer never to happen than to patch.
  sweepWorkflow: 'PINNED',
};

/**
 * The definition options of one workflow type, decided when a worker instantiates it. The SDK
 * Core refuses a behavior from an unversioned worker ("versioning behavior cannot be specified
 * without deployment options being set with versioned mode"), so a behavior is given only when
 * the task runs on a deployment version. An unversioned worker still reports a version with its
 * own build id and an empty deployment name, so the deployment name is what tells them apart.
 * `currentDeploymentVersion` is deterministic (taken from history on replay).
 */
export function versioningOptionsFor(workflowType: string, currentDeploymentVersion: { deploymentName?: string } | undefined | null): { versioningBehavior?: VersioningBehavior } {
  const versioningBehavior = WORKFLOW_VERSIONING[workflowType];
  if (!versioningBehavior) throw new Error(`workflows/versioning.ts names no versioning behavior for ${workflowType}`);
  return currentDeploymentVersion?.deploymentName ? { versioningBehavior } : {};
}
