#!/usr/bin/env node
// The schema-engine executable the Prisma CLI spawns (PRISMA_SCHEMA_ENGINE_BINARY): Prisma's
// schema engine as WebAssembly behind the native binary's interface (prisma/engine-shim.ts).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../prisma/engine-shim.ts');
process.exitCode = await main(process.argv.slice(2));
