#!/usr/bin/env node
// Runs `prisma generate` on install. Prisma's CLI insists on a native schema engine that no
// registry reachable here ships, though generate never uses it: pointing
// PRISMA_SCHEMA_ENGINE_BINARY at any existing file (node itself) lets it run.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
const cli = require.resolve('prisma/build/index.js');
const r = spawnSync(process.execPath, [cli, 'generate'], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
