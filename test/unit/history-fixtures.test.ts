// Every recorded history of every release (test/fixtures/histories/<release>/) replays against
// the current workflow code: a change that alters a running workflow's commands without a
// patch fails here, before a deploy. New releases add a folder with
// `STABLERAIL_RECORD_HISTORIES=test/fixtures/histories/<release> npx mocha test/workflow-replay.test.ts`.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
// Default import: @temporalio/proto is CommonJS whose named exports Node cannot always detect statically.
import proto from '@temporalio/proto';
import { installWorkerRuntime } from '../../workers/runtime.js';
import { workflowBundle } from './bundle.js';

const { temporal } = proto;

const ROOT = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
/** Each release must keep at least these workflow types recorded, once it has them. */
const TYPES_SINCE_PAYOUTS = ['paymentWorkflow', 'watcherWorkflow', 'reconciliationWorkflow', 'payoutWorkflow', 'payoutDestinationWorkflow'];

function fixtures(): Array<{ release: string; file: string; type: string }> {
  return readdirSync(ROOT).sort().flatMap((release) =>
    readdirSync(join(ROOT, release)).filter((f) => f.endsWith('.history.bin')).map((file) => ({ release, file, type: file.split('.')[0]! })),
  );
}

describe('recorded histories of every release replay against the current code', function () {
  this.timeout(120_000);
  let bundle: WorkflowBundleWithSourceMap;

  before(async () => {
    installWorkerRuntime();
    bundle = await workflowBundle();
  });

  it('the fixture set covers payments, watchers, reconciliation, payouts and destinations of the last release', () => {
    const all = fixtures();
    const latest = all.at(-1)!.release;
    const types = new Set(all.filter((f) => f.release === latest).map((f) => f.type));
    for (const t of TYPES_SINCE_PAYOUTS) assert.ok(types.has(t), `${latest} has no recorded ${t}`);
  });

  for (const f of fixtures()) {
    it(`${f.release}: ${f.file.replace('.history.bin', '')}`, async () => {
      const history = temporal.api.history.v1.History.decode(readFileSync(join(ROOT, f.release, f.file)));
      assert.ok((history.events?.length ?? 0) > 3, 'a history with commands');
      // Throws DeterminismViolationError if the current code issues other commands than were recorded.
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: f.file }, history);
    });
  }
});
