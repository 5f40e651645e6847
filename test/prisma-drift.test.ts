// Prisma's schema engine cannot run here, so migrations are hand-written SQL. This test is the
// guard: it reads prisma/schema.prisma and the migrated database and fails when they disagree
// on any table, column, type, nullability, primary key, unique or index.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { migrate } from '../prisma/migrate.js';
import { h } from './harness.js';

interface Field { column: string; type: string; nullable: boolean; list: boolean; native?: string }
interface Model { table: string; fields: Field[]; id: string[]; uniques: string[][]; indexes: string[][] }

const SCALARS = new Set(['String', 'Int', 'BigInt', 'Decimal', 'DateTime', 'Json', 'Boolean', 'Float', 'Bytes']);

function snake(s: string): string {
  return s.replace(/([A-Z])/g, '_$1').toLowerCase();
}

function fieldList(s: string, fields: Map<string, string>): string[] {
  return s.split(',').map((x) => x.trim().replace(/\(.*$/, '')).filter(Boolean).map((n) => fields.get(n) ?? n);
}

export function parsePrismaSchema(text: string): Model[] {
  const models: Model[] = [];
  for (const m of text.matchAll(/model\s+(\w+)\s*\{([\s\S]*?)\n\}/g)) {
    const body = m[2]!;
    const fields: Field[] = [];
    const names = new Map<string, string>();
    const model: Model = { table: m[1]!, fields, id: [], uniques: [], indexes: [] };
    for (const raw of body.split('\n')) {
      const line = raw.replace(/\/\/.*$/, '').trim();
      if (!line) continue;
      if (line.startsWith('@@')) {
        const map = /^@@map\("([^"]+)"\)/.exec(line);
        if (map) model.table = map[1]!;
        continue;
      }
      const f = /^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line);
      if (!f || !SCALARS.has(f[2]!)) continue;
      const column = /@map\("([^"]+)"\)/.exec(f[5]!)?.[1] ?? f[1]!;
      names.set(f[1]!, column);
      fields.push({ column, type: f[2]!, list: !!f[3], nullable: !!f[4], native: /@db\.(\w+(?:\([^)]*\))?)/.exec(f[5]!)?.[1] });
      if (/@id\b/.test(f[5]!)) model.id = [column];
      if (/@unique\b/.test(f[5]!)) model.uniques.push([column]);
    }
    for (const raw of body.split('\n')) {
      const line = raw.trim();
      const id = /^@@id\(\[([^\]]+)\]\)/.exec(line);
      if (id) model.id = fieldList(id[1]!, names);
      const u = /^@@unique\(\[([^\]]+)\]\)/.exec(line);
      if (u) model.uniques.push(fieldList(u[1]!, names));
      const ix = /^@@index\(\[([^\]]+)\]\)/.exec(line);
      if (ix) model.indexes.push(fieldList(ix[1]!, names));
    }
    models.push(model);
  }
  return models;
}

const PG_TYPE: Record<string, (f: Field) => string> = {
  String: () => 'text',
  Int: () => 'integer',
  BigInt: () => 'bigint',
  Decimal: () => 'numeric',
  DateTime: (f) => (f.native?.startsWith('Timestamptz') ? 'timestamp with time zone' : 'timestamp without time zone'),
  Json: () => 'jsonb',
  Boolean: () => 'boolean',
  Float: () => 'double precision',
  Bytes: () => 'bytea',
};

describe('Prisma schema and migrations', () => {
  it('the migration runner records what it applied as Prisma does and is a no-op the second time', async () => {
    const again = await migrate(h().stack.databaseUrl);
    assert.equal(again.applied.length, 0);
    assert.ok(again.alreadyApplied >= 1);
    const { rows } = await h().stack.pool.query(`SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`);
    for (const r of rows) {
      assert.match(r.checksum, /^[0-9a-f]{64}$/);
      assert.ok(r.finished_at);
      assert.equal(r.applied_steps_count, 1);
    }
  });

  it('the migrated database matches prisma/schema.prisma: tables, columns, types, nullability, keys and indexes', async () => {
    const models = parsePrismaSchema(readFileSync('prisma/schema.prisma', 'utf8'));
    assert.ok(models.length >= 5);
    const pool = h().stack.pool;
    const { rows: tables } = await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`);
    assert.deepEqual(tables.map((t) => t.table_name).sort(), models.map((m) => m.table).sort(), 'tables differ');
    for (const m of models) {
      const { rows: cols } = await pool.query(`SELECT column_name, data_type, udt_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`, [m.table]);
      assert.deepEqual(cols.map((c) => c.column_name).sort(), m.fields.map((f) => f.column).sort(), `columns of ${m.table} differ`);
      for (const f of m.fields) {
        const c = cols.find((x) => x.column_name === f.column)!;
        if (f.list) assert.equal(c.data_type, 'ARRAY', `${m.table}.${f.column} should be an array`);
        else assert.equal(c.data_type, PG_TYPE[f.type]!(f), `${m.table}.${f.column} type`);
        // Prisma lists are nullable columns in SQL; everything else must agree exactly.
        if (!f.list) assert.equal(c.is_nullable === 'YES', f.nullable, `${m.table}.${f.column} nullability`);
      }
      const { rows: idx } = await pool.query(
        `SELECT i.indisprimary AS pk, i.indisunique AS uq, i.indpred IS NOT NULL AS partial,
                array_agg(a.attname::text ORDER BY k.ord) AS cols
           FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
          WHERE t.relname = $1 GROUP BY i.indexrelid, i.indisprimary, i.indisunique, i.indpred`,
        [m.table],
      );
      const key = (c: string[]) => c.join(',');
      assert.deepEqual(idx.find((i) => i.pk)?.cols, m.id, `primary key of ${m.table}`);
      // Partial indexes (and partial unique rules such as "one live allowlist entry per address")
      // are SQL-only: Prisma cannot express them. The rest must be declared.
      assert.deepEqual(idx.filter((i) => i.uq && !i.pk && !i.partial).map((i) => key(i.cols)).sort(), m.uniques.map(key).sort(), `uniques of ${m.table}`);
      assert.deepEqual(idx.filter((i) => !i.uq && !i.pk && !i.partial).map((i) => key(i.cols)).sort(), m.indexes.map(key).sort(), `indexes of ${m.table}`);
    }
  });
});
