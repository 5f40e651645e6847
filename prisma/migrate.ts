// Prisma Migrate without a native binary: Prisma's own schema engine, shipped as WebAssembly in
// @prisma/schema-engine-wasm, driven through the node-postgres driver adapter (@prisma/adapter-pg).
// The engine does the work `prisma migrate deploy` and `prisma migrate diff` do (the
// `_prisma_migrations` bookkeeping, its advisory lock, checksums, the shadow database); this
// file only hands it the migrations directory, the schema and a connection. The Prisma 7 CLI
// dropped the config's `adapter` option and spawns a native engine, which it downloads; the
// CLI runs here with scripts/schema-engine.mjs in its place (prisma/engine-shim.ts), which
// answers through this file.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum, type SqlDriverAdapter, type SqlQueryable, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type * as Engine from '@prisma/schema-engine-wasm/schema_engine_bg';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));
export const SCHEMA_PATH = fileURLToPath(new URL('./schema.prisma', import.meta.url));
const PROJECT_DIR = dirname(dirname(SCHEMA_PATH));

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

type EngineModule = typeof Engine;
let engineModule: Promise<EngineModule> | null = null;

/** The wasm-bindgen glue targets bundlers (`import './x.wasm'`); Node needs the module instantiated by hand. */
function loadEngineModule(): Promise<EngineModule> {
  engineModule ??= (async () => {
    // The engine reports a Rust panic's message here before it traps.
    const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { message: string; set_message(m: string): void } };
    g.PRISMA_WASM_PANIC_REGISTRY ??= { message: '', set_message(m: string) { this.message = `schema engine panic: ${m}`; } };
    const require = createRequire(import.meta.url);
    const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const glue = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as EngineModule;
    const bytes = readFileSync(join(dirname(gluePath), 'schema_engine_bg.wasm'));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { './schema_engine_bg.js': glue as unknown as WebAssembly.ModuleImports });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start: () => void }).__wbindgen_start();
    return glue;
  })();
  return engineModule;
}

const PG_CHAR = 18; // the one-byte "char" of the catalogs (pg_class.relkind, pg_constraint.contype, …)
const PG_TEXT = 25;
/** The positions of "char" columns in a result, keyed by its rows array (which PrismaPg passes on as is). */
const charColumns = new WeakMap<unknown[], number[]>();

/**
 * The engine reads the catalogs' one-byte "char" columns when it describes a schema, and
 * PrismaPg has no mapping for that type ("Column type 'char' could not be deserialized"). The
 * connection reports such a column as text, so PrismaPg accepts it, and remembers where it was,
 * so the adapter can type it as Prisma's Character, which the engine reads.
 */
function tagCatalogChars(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const tag = (res: unknown) => {
    for (const r of (Array.isArray(res) ? res : [res]) as Array<pg.QueryResult | undefined>) {
      if (!r?.fields) continue;
      const at = r.fields.flatMap((f, i) => (f.dataTypeID === PG_CHAR ? [i] : []));
      if (!at.length) continue;
      for (const i of at) r.fields[i]!.dataTypeID = PG_TEXT;
      charColumns.set(r.rows, at);
    }
    return res;
  };
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const cb = args.at(-1);
    if (typeof cb === 'function') return query(...args.slice(0, -1), (err: unknown, res: unknown) => cb(err, err ? res : tag(res)));
    const out = query(...args);
    return out instanceof Promise ? out.then(tag) : out;
  };
}

function typeCatalogChars<Q extends SqlQueryable>(q: Q): Q {
  const queryRaw = q.queryRaw.bind(q);
  q.queryRaw = async (query) => {
    const r = await queryRaw(query);
    for (const i of charColumns.get(r.rows) ?? []) r.columnTypes[i] = ColumnTypeEnum.Character;
    return r;
  };
  return q;
}

/** The engine's build (a prisma-engines commit). */
export async function schemaEngineVersion(): Promise<string> {
  return (await loadEngineModule()).version();
}

/**
 * A migration-aware adapter factory over @prisma/adapter-pg, with two fixes the engine needs:
 * - executeScript sends a migration whole (simple query protocol) where PrismaPg splits it on
 *   every `;`, which breaks `$$ … $$` function bodies;
 * - connectToShadowDb really connects to the shadow database: PrismaPg's own one keeps the
 *   connection string's database, so it would replay migrations into the main database.
 * Every connection is a one-client pool, so the engine's session advisory lock and the
 * statements it guards share one server session.
 */
class MigrationAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName = '@prisma/adapter-pg';
  private readonly pools: pg.Pool[] = [];

  constructor(private readonly url: string) {}

  private async open(url: string, onDispose?: () => Promise<void>): Promise<SqlDriverAdapter> {
    const pool = new pg.Pool({ connectionString: url, max: 1, idleTimeoutMillis: 0 });
    pool.on('error', () => undefined);
    pool.on('connect', tagCatalogChars);
    this.pools.push(pool);
    const adapter = typeCatalogChars(await new PrismaPg(pool).connect());
    const startTransaction = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (isolation) => typeCatalogChars(await startTransaction(isolation));
    adapter.executeScript = async (script: string) => {
      await pool.query(script);
    };
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose();
      await pool.end().catch(() => undefined);
      await onDispose?.();
    };
    return adapter;
  }

  connect(): Promise<SqlDriverAdapter> {
    return this.open(this.url);
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const name = `prisma_migrate_shadow_db_${randomUUID().replaceAll('-', '')}`;
    const admin = new pg.Client({ connectionString: this.url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    const shadowUrl = new URL(this.url);
    shadowUrl.pathname = `/${name}`;
    return this.open(shadowUrl.toString(), async () => {
      const drop = new pg.Client({ connectionString: this.url });
      await drop.connect();
      try {
        await drop.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await drop.end();
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.end().catch(() => undefined)));
  }
}

function migrationsList(dir = MIGRATIONS_DIR): Engine.MigrationList {
  const names = readdirSync(dir).filter((n) => existsSync(join(dir, n, 'migration.sql'))).sort();
  const lock = join(dir, 'migration_lock.toml');
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lock) ? readFileSync(lock, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: names.map((n) => ({
      path: n,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok' as const, value: readFileSync(join(dir, n, 'migration.sql'), 'utf8') } },
    })),
  };
}

function schemaFiles(path = SCHEMA_PATH): Engine.SchemasContainer {
  return { files: [{ path: relative(PROJECT_DIR, path), content: readFileSync(path, 'utf8') }] };
}

const NO_FILTER: Engine.SchemaFilter = { externalTables: [], externalEnums: [] };

export interface OpenEngine {
  engine: Engine.SchemaEngine;
  close(): Promise<void>;
}

/** One schema engine over databaseUrl (its logs, one JSON line each, go to onLog). */
export async function openSchemaEngine(databaseUrl: string, datamodels: Array<[path: string, content: string]>, onLog: (jsonLine: string) => void): Promise<OpenEngine> {
  const mod = await loadEngineModule();
  const factory = new MigrationAdapterFactory(databaseUrl);
  const engine = await mod.SchemaEngine.new({ datamodels: datamodels.length ? datamodels : undefined }, onLog, bindMigrationAwareSqlAdapterFactory(factory));
  return {
    engine,
    close: async () => {
      engine.free();
      await factory.close();
    },
  };
}

async function withEngine<T>(databaseUrl: string, log: (line: string) => void, fn: (e: Engine.SchemaEngine) => Promise<T>): Promise<T> {
  const onLog = (line: string) => {
    try {
      const entry = JSON.parse(line) as { level?: string; fields?: { message?: string } };
      if (entry.level === 'WARN' || entry.level === 'ERROR') log(`schema engine ${entry.level.toLowerCase()}: ${entry.fields?.message ?? line}`);
    } catch {
      log(line);
    }
  };
  const { engine, close } = await openSchemaEngine(databaseUrl, schemaFiles().files.map((f) => [f.path, f.content]), onLog);
  try {
    return await fn(engine);
  } finally {
    await close();
  }
}

/** `prisma migrate deploy`: apply the migrations the database has not recorded in `_prisma_migrations`. */
export async function migrate(databaseUrl: string, log: (line: string) => void = () => undefined): Promise<MigrateResult> {
  const list = migrationsList();
  const out = await withEngine(databaseUrl, log, (e) => e.applyMigrations({ migrationsList: list, filters: NO_FILTER }));
  for (const name of out.appliedMigrationNames) log(`applied migration ${name}`);
  return { applied: out.appliedMigrationNames, alreadyApplied: list.migrationDirectories.length - out.appliedMigrationNames.length };
}

export interface DiffResult {
  /** 0: no difference; 2: the two differ (as `prisma migrate diff --exit-code`). */
  exitCode: number;
  /** A human-readable summary, or the SQL that would close the gap when script is true. */
  output: string;
}

/**
 * `prisma migrate diff --from-migrations prisma/migrations --to-schema prisma/schema.prisma --exit-code`:
 * the migrations are replayed into a throwaway shadow database on the same server (the
 * connection needs CREATEDB), and its schema is compared with schema.prisma.
 */
export async function diffMigrationsToSchema(databaseUrl: string, opts: { script?: boolean; schemaPath?: string; log?: (line: string) => void } = {}): Promise<DiffResult> {
  const list = migrationsList();
  const to = { tag: 'schemaDatamodel' as const, ...schemaFiles(opts.schemaPath) };
  const r = await withEngine(databaseUrl, opts.log ?? (() => undefined), (e) =>
    e.diff({ from: { tag: 'migrations', ...list }, to, script: opts.script ?? false, exitCode: true, filters: NO_FILTER }),
  );
  return { exitCode: r.exitCode, output: r.stdout ?? '' };
}

/** `prisma migrate status`: what the database's history says against the migrations directory. */
export async function migrationStatus(databaseUrl: string): Promise<Engine.DiagnoseMigrationHistoryOutput> {
  return withEngine(databaseUrl, () => undefined, (e) => e.diagnoseMigrationHistory({ migrationsList: migrationsList(), optInToShadowDatabase: false, filters: NO_FILTER }));
}
