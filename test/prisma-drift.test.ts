// Prisma Migrate is the guard against drift: its schema engine (WebAssembly, through the pg
// driver adapter) replays prisma/migrations into a shadow database and compares the result with
// prisma/schema.prisma, as `prisma migrate diff --from-migrations … --to-schema … --exit-code`.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffMigrationsToSchema, migrate, migrationStatus, MIGRATIONS_DIR, SCHEMA_PATH } from '../prisma/migrate.js';
import { h } from './harness.js';

describe('Prisma Migrate: schema and migrations', () => {
  it('prisma migrate diff from the migrations to schema.prisma reports no difference (exit code 0)', async () => {
    const d = await diffMigrationsToSchema(h().stack.databaseUrl);
    assert.equal(d.exitCode, 0, `schema.prisma and prisma/migrations differ:\n${d.output}`);
    assert.match(d.output, /No difference detected/);
    const sql = await diffMigrationsToSchema(h().stack.databaseUrl, { script: true });
    assert.equal(sql.exitCode, 0);
    assert.match(sql.output, /empty migration/);
  });

  it('prisma migrate diff exits 2 and names the change when schema.prisma declares what no migration creates', async () => {
    const drifted = readFileSync(SCHEMA_PATH, 'utf8').replace(/(model Merchant \{\n)/, '$1  nickname String?\n');
    assert.notEqual(drifted, readFileSync(SCHEMA_PATH, 'utf8'));
    const path = join(mkdtempSync(join(tmpdir(), 'stablerail-drift-')), 'schema.prisma');
    writeFileSync(path, drifted);
    const d = await diffMigrationsToSchema(h().stack.databaseUrl, { schemaPath: path, script: true });
    assert.equal(d.exitCode, 2);
    assert.match(d.output, /ALTER TABLE "merchants" ADD COLUMN\s+"nickname" TEXT/);
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

  it('no shadow database is left behind', async () => {
    const { rows } = await h().stack.pool.query(`SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'`);
    assert.deepEqual(rows, []);
  });
});
