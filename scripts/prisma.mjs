#!/usr/bin/env node
// The Prisma CLI with the schema engine this project runs: `node scripts/prisma.mjs <args>`
// (`npm run prisma -- <args>`), e.g. `migrate deploy`, `migrate status`,
// `migrate diff --from-migrations prisma/migrations --to-schema prisma/schema.prisma --exit-code`,
// `generate --sql`. Prisma's native schema-engine binary is not downloadable here; the CLI is
// pointed at scripts/schema-engine.mjs, which answers its calls with the WebAssembly build.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const engine = fileURLToPath(new URL('./schema-engine.mjs', import.meta.url));
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? engine, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
const cli = require.resolve('prisma/build/index.js');
const args = process.argv.slice(2);
const r = spawnSync(process.execPath, [cli, ...(args.length ? args : ['generate'])], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
