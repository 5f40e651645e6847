// `npm run test:cluster`: the cluster suite (test/cluster/*.cluster.ts, outside `npm test`'s
// glob) on the real Temporal server. Mocha reports its tests; the topology test also counts its
// own checks into a tally file. The last line is the sum: `N passed, N failed`.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ensureTemporalServerBuild } from './temporal-server.js';

// The first run builds the server (minutes, more on a loaded machine): here, outside any test's timeout.
ensureTemporalServerBuild((s) => process.stderr.write(`${s}\n`));
const dir = mkdtempSync(join(tmpdir(), 'stablerail-tally-'));
const tallyFile = join(dir, 'tally.json');
const child = spawn(process.execPath, ['node_modules/mocha/bin/mocha.js', '--config', '.mocharc.cluster.json', ...(process.argv.slice(2).length ? process.argv.slice(2) : ['test/cluster/**/*.cluster.ts'])], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, CLUSTER_TALLY_FILE: tallyFile },
});
// Shown as it comes (rounds take minutes), and kept for the count.
let stdout = '';
child.stdout!.on('data', (b: Buffer) => {
  stdout += b.toString();
  process.stdout.write(b);
});
const status = await new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
const r = { status, stdout };
const num = (re: RegExp) => Number(re.exec(r.stdout ?? '')?.[1] ?? 0);
const checks = existsSync(tallyFile) ? (JSON.parse(readFileSync(tallyFile, 'utf8')) as { passed: number; failed: number }) : { passed: 0, failed: 0 };
rmSync(dir, { recursive: true, force: true });
const passed = num(/(\d+) passing/) + checks.passed;
const failed = num(/(\d+) failing/) + checks.failed + (r.status === 0 ? 0 : num(/(\d+) failing/) === 0 ? 1 : 0);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(r.status ?? 1);
