// Prisma Migrate is the guard against drift: the Prisma CLI's `migrate diff` (its schema engine
// run as WebAssembly through the pg driver adapter) replays prisma/migrations into a shadow
// database and compares the result with prisma/schema.prisma.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffMigrationsToSchema, migrate, migrationStatus, MIGRATIONS_DIR, SCHEMA_PATH } from '../prisma/migrate.js';
import { committedTypedSql, generateTypedSql } from '../prisma/typed-sql.js';
import { h } from './harness.js';

/** The Prisma CLI (scripts/prisma.mjs: the CLI with the WebAssembly schema engine) on the suite's database. */
function prisma(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['scripts/prisma.mjs', ...args], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: h().stack.databaseUrl }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('Prisma Migrate: schema and migrations', () => {
  it('`prisma migrate diff --from-migrations prisma/migrations --to-schema prisma/schema.prisma --exit-code` reports no difference', async () => {
    const r = prisma(['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema', 'prisma/schema.prisma', '--exit-code']);
    assert.equal(r.status, 0, `schema.prisma and prisma/migrations differ:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /No difference detected/);
  });

  it('`prisma migrate diff --exit-code` exits 2 and names the change when schema.prisma declares what no migration creates', async () => {
    const drifted = readFileSync(SCHEMA_PATH, 'utf8').replace(/(model Merchant \{\n)/, '$1  nickname String?\n');
    assert.notEqual(drifted, readFileSync(SCHEMA_PATH, 'utf8'));
    const path = join(mkdtempSync(join(tmpdir(), 'stablerail-drift-')), 'schema.prisma');
    writeFileSync(path, drifted);
    const r = prisma(['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema', path, '--exit-code', '--script']);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /ALTER TABLE "merchants" ADD COLUMN\s+"nickname" TEXT/);
    // The same engine, called in-process (`stablerail migrate diff`), agrees.
    const d = await diffMigrationsToSchema(h().stack.databaseUrl, { schemaPath: path });
    assert.equal(d.exitCode, 2);
    assert.match(d.output, /Added column `nickname`/);
    assert.equal((await diffMigrationsToSchema(h().stack.databaseUrl)).exitCode, 0);
  });

  it('`prisma migrate status` finds the database up to date', () => {
    const r = prisma(['migrate', 'status']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Database schema is up to date/);
  });

  it('prisma migrate deploy recorded every migration in _prisma_migrations and is a no-op the second time', async () => {
    const again = await migrate(h().stack.databaseUrl);
    assert.deepEqual(again.applied, []);
    const status = await migrationStatus(h().stack.databaseUrl);
    assert.deepEqual(status, { editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null });
    const { rows } = await h().stack.pool.query(`SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`);
    const dirs = readdirSync(MIGRATIONS_DIR).filter((n) => /^\d{14}_/.test(n)).sort();
    assert.deepEqual(rows.map((r) => r.migration_name), dirs);
    for (const r of rows) assert.match(r.checksum, /^[0-9a-f]{64}$/);
  });

  it('TypedSQL: `prisma generate --sql` on the migrated database writes exactly the committed activities/repositories/sql modules', () => {
    const fresh = generateTypedSql(h().stack.databaseUrl);
    const committed = committedTypedSql();
    assert.deepEqual([...committed.keys()], [...fresh.keys()], 'run `npm run prisma:sql` after adding or removing a prisma/sql file');
    for (const [f, text] of fresh) assert.equal(committed.get(f), text, `${f} is stale: run \`npm run prisma:sql\``);
    assert.ok(fresh.size >= 2);
  });

  it('no shadow database is left behind', async () => {
    const { rows } = await h().stack.pool.query(`SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'`);
    assert.deepEqual(rows, []);
  });
});
