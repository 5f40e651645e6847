// Worker Deployment Versioning is opt-in and all-or-nothing per worker (workers/runtime.ts), and
// every workflow type in the bundle carries the behavior workflows/versioning.ts gives it.
import assert from 'node:assert/strict';
import * as workflows from '../../workflows/index.js';
import { WORKFLOW_VERSIONING, versioningOptionsFor } from '../../workflows/versioning.js';
import { DEFAULT_VERSIONING_BEHAVIOR, workerDeployment } from '../../workers/runtime.js';

describe('worker deployment versioning options', () => {
  it('neither variable set: unversioned, as before', () => {
    assert.deepEqual(workerDeployment({}), {});
    assert.deepEqual(workerDeployment({ STABLERAIL_WORKER_DEPLOYMENT: ' ', STABLERAIL_WORKER_BUILD_ID: '' }), {});
  });

  it('both set: that version of that deployment, versioned, auto-upgrade by default', () => {
    assert.deepEqual(workerDeployment({ STABLERAIL_WORKER_DEPLOYMENT: 'stablerail', STABLERAIL_WORKER_BUILD_ID: '2026.12.02-1' }), {
      workerDeploymentOptions: { version: { deploymentName: 'stablerail', buildId: '2026.12.02-1' }, useWorkerVersioning: true, defaultVersioningBehavior: 'AUTO_UPGRADE' },
    });
    assert.equal(DEFAULT_VERSIONING_BEHAVIOR, 'AUTO_UPGRADE');
  });

  it('only one set: refused, naming both variables', () => {
    assert.throws(() => workerDeployment({ STABLERAIL_WORKER_DEPLOYMENT: 'stablerail' }), /STABLERAIL_WORKER_BUILD_ID/);
    assert.throws(() => workerDeployment({ STABLERAIL_WORKER_BUILD_ID: 'b1' }), /got only STABLERAIL_WORKER_BUILD_ID/);
  });

  it('every workflow type in the bundle has a behavior in the table, and the table names no other', () => {
    const exported = Object.entries(workflows).filter(([, v]) => typeof v === 'function');
    assert.deepEqual(exported.map(([k]) => k).sort(), Object.keys(WORKFLOW_VERSIONING).sort());
    // Decided per instantiation (workflowInfo is only readable inside a workflow): a getter.
    for (const [name, fn] of exported) assert.equal(typeof (fn as { workflowDefinitionOptions?: unknown }).workflowDefinitionOptions, 'function', name);
    // Days-long and endless workflows must be able to move to a new build.
    for (const name of ['paymentWorkflow', 'payoutWorkflow', 'payoutDestinationWorkflow', 'watcherWorkflow', 'webhookDeliveryWorkflow', 'webhookLaneWorkflow']) assert.equal(WORKFLOW_VERSIONING[name], 'AUTO_UPGRADE', name);
    for (const name of ['reconciliationWorkflow', 'sweepPlanWorkflow', 'sweepWorkflow']) assert.equal(WORKFLOW_VERSIONING[name], 'PINNED', name);
  });

  it('a behavior only on a versioned worker: an unversioned one would have its workflow tasks refused', () => {
    const version = { deploymentName: 'stablerail', buildId: 'b1' };
    assert.deepEqual(versioningOptionsFor('paymentWorkflow', version), { versioningBehavior: 'AUTO_UPGRADE' });
    assert.deepEqual(versioningOptionsFor('reconciliationWorkflow', version), { versioningBehavior: 'PINNED' });
    assert.deepEqual(versioningOptionsFor('paymentWorkflow', undefined), {});
    // What an unversioned worker reports: its own build id, no deployment.
    assert.deepEqual(versioningOptionsFor('paymentWorkflow', { deploymentName: '', buildId: '@temporalio/worker@1.24.0+abc' } as never), {});
    assert.throws(() => versioningOptionsFor('unknownWorkflow', version), /names no versioning behavior for unknownWorkflow/);
  });
});
