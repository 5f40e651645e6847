// TypedSQL: prisma/sql/*.sql become typed query factories for `$queryRawTyped`. Prisma's
// `generate --sql` needs a database (PostgreSQL describes each query), so `npm install` cannot
// run it; the generated modules are committed in activities/repositories/sql/ instead, made by
// `npm run prisma:sql` and checked against a fresh generation by test/prisma-drift.test.ts.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCHEMA_PATH } from './migrate.js';

export const SQL_DIR = fileURLToPath(new URL('./sql', import.meta.url));
export const TYPED_SQL_DIR = fileURLToPath(new URL('../activities/repositories/sql', import.meta.url));
const PRISMA_CLI = fileURLToPath(new URL('../scripts/prisma.mjs', import.meta.url));

/**
 * `prisma generate --sql` against databaseUrl (already migrated), into a scratch copy of the
 * schema so the installed client is left alone. Returns the generated modules by file name.
 */
export function generateTypedSql(databaseUrl: string): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'stablerail-typedsql-'));
  try {
    const schema = readFileSync(SCHEMA_PATH, 'utf8').replace(/output\s*=\s*"[^"]*"/, `output = ${JSON.stringify(join(dir, 'client'))}`);
    writeFileSync(join(dir, 'schema.prisma'), schema);
    mkdirSync(join(dir, 'sql'));
    for (const f of readdirSync(SQL_DIR).filter((n) => n.endsWith('.sql'))) copyFileSync(join(SQL_DIR, f), join(dir, 'sql', f));
    const r = spawnSync(process.execPath, [PRISMA_CLI, 'generate', '--sql', '--schema', join(dir, 'schema.prisma')], {
      cwd: dirname(dirname(SCHEMA_PATH)),
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: databaseUrl },
      timeout: 180_000,
    });
    if (r.status !== 0) throw new Error(`prisma generate --sql failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    const out = new Map<string, string>();
    const gen = join(dir, 'client', 'sql');
    for (const f of readdirSync(gen).sort()) out.set(f, readFileSync(join(gen, f), 'utf8'));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The committed modules, by file name. */
export function committedTypedSql(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(TYPED_SQL_DIR).sort()) out.set(f, readFileSync(join(TYPED_SQL_DIR, f), 'utf8'));
  return out;
}
