#!/usr/bin/env node
// The `stablerail` CLI entry: runs the TypeScript CLI through tsx, wherever it is called from.
// Signals are passed on, so stopping this process stops the API or worker it runs.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const tsx = require.resolve('tsx');
const child = spawn(process.execPath, ['--import', tsx, cli, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
