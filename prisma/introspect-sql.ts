// TypedSQL's `introspectSql` for PostgreSQL, answered with node-postgres: the WebAssembly schema
// engine overflows its stack on it (even for `SELECT 1`), so prisma/engine-shim.ts asks here.
// For each query: PostgreSQL prepares it (its parameter types, from pg_prepared_statements),
// runs it with null arguments for the result's names and types (a query wrapped in `LIMIT 0`; a
// statement that writes, or a WITH that may, as it is: it matches no row with null keys, and the
// transaction it runs in is rolled back either way), and the
// `-- @param {Type} $n:name? text` comments give names, nullability and documentation as
// Prisma's reference describes them. A result column is non-null only when it is a NOT NULL
// table column that no outer join can null out; everything computed is nullable.
import pg from 'pg';

export interface SqlQueryInput {
  name: string;
  source: string;
}

interface Param {
  name: string;
  typ: string;
  documentation: string | null;
  nullable: boolean;
}

interface Column {
  name: string;
  typ: string;
  nullable: boolean;
}

const PRISMA_SCALAR: Record<string, string> = {
  String: 'string',
  Int: 'int',
  BigInt: 'bigint',
  Float: 'double',
  Boolean: 'bool',
  Decimal: 'decimal',
  DateTime: 'datetime',
  Json: 'json',
  Bytes: 'bytes',
};

const PG_TYPE: Record<string, string> = {
  text: 'string',
  'character varying': 'string',
  character: 'string',
  name: 'string',
  '"char"': 'char',
  smallint: 'int',
  integer: 'int',
  bigint: 'bigint',
  oid: 'bigint',
  real: 'float',
  'double precision': 'double',
  numeric: 'decimal',
  money: 'decimal',
  boolean: 'bool',
  bytea: 'bytes',
  json: 'json',
  jsonb: 'json',
  xml: 'xml',
  uuid: 'uuid',
  date: 'date',
  'timestamp without time zone': 'datetime',
  'timestamp with time zone': 'datetime',
  'time without time zone': 'time',
  'time with time zone': 'time',
};

function typOf(pgType: string): string {
  if (pgType.endsWith('[]')) {
    const inner = typOf(pgType.slice(0, -2));
    return inner === 'unknown' ? 'unknown' : `${inner === 'decimal' ? 'decimal' : inner}-array`;
  }
  return PG_TYPE[pgType.replace(/\(.*\)$/, '')] ?? 'unknown';
}

/** The leading comment block: `-- @param` lines and the query's own documentation. */
function parseComments(source: string): { doc: string | null; params: Map<number, { name: string; typ?: string; nullable: boolean; documentation: string | null }> } {
  const params = new Map<number, { name: string; typ?: string; nullable: boolean; documentation: string | null }>();
  const doc: string[] = [];
  for (const line of source.split('\n')) {
    const m = /^\s*--\s?(.*)$/.exec(line);
    if (!m) continue;
    const p = /^@param\s+(?:\{(\w+)\}\s+)?\$(\d+):(\w+)(\?)?\s*(.*)$/.exec(m[1]!.trim());
    if (p) {
      const typ = p[1] ? PRISMA_SCALAR[p[1]] : undefined;
      if (p[1] && !typ) throw new Error(`@param {${p[1]}}: not a Prisma scalar type`);
      params.set(Number(p[2]), { name: p[3]!, typ, nullable: !!p[4], documentation: p[5]?.trim() || null });
    } else if (!m[1]!.trim().startsWith('@')) {
      doc.push(m[1]!);
    }
  }
  return { doc: doc.length ? doc.join('\n').trim() : null, params };
}

export async function introspectSql(url: string, queries: SqlQueryInput[]): Promise<{ queries: Array<{ name: string; source: string; documentation: string | null; parameters: Param[]; resultColumns: Column[] }> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const out = [];
    for (const q of queries) {
      const { doc, params: annotated } = parseComments(q.source);
      const body = q.source.replace(/;\s*$/, '');
      await c.query('BEGIN');
      try {
        await c.query(`PREPARE __typedsql_params AS ${body}`);
        const { rows } = await c.query<{ types: string[] }>(`SELECT parameter_types::text[] AS types FROM pg_prepared_statements WHERE name = '__typedsql_params'`);
        const pgParams = rows[0]?.types ?? [];
        const args = pgParams.length ? `(${pgParams.map(() => 'NULL').join(', ')})` : '';
        const res = /^\s*SELECT\b/i.test(body.replace(/^\s*--.*$/gm, ''))
          ? (await c.query(`PREPARE __typedsql_result AS SELECT * FROM (${body}) AS q LIMIT 0`), await c.query(`EXECUTE __typedsql_result${args}`))
          : await c.query(`EXECUTE __typedsql_params${args}`);
        const parameters: Param[] = pgParams.map((t, i) => {
          const a = annotated.get(i + 1);
          return { name: a?.name ?? `p${i + 1}`, typ: a?.typ ?? typOf(t), documentation: a?.documentation ?? null, nullable: a?.nullable ?? false };
        });
        const tables = [...new Set(res.fields.map((f) => f.tableID).filter((t) => t > 0))];
        const meta = new Map<string, { notNull: boolean; table: string }>();
        if (tables.length) {
          const { rows: cols } = await c.query<{ rel: number; num: number; not_null: boolean; table: string; typ: string }>(
            `SELECT a.attrelid::int AS rel, a.attnum::int AS num, a.attnotnull AS not_null, c.relname AS table
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0`,
            [tables],
          );
          for (const r of cols) meta.set(`${r.rel}:${r.num}`, { notNull: r.not_null, table: r.table });
        }
        const { rows: typeNames } = await c.query<{ oid: number; name: string }>(`SELECT oid::int AS oid, format_type(oid, NULL) AS name FROM pg_type WHERE oid = ANY($1::oid[])`, [res.fields.map((f) => f.dataTypeID)]);
        const typeName = new Map(typeNames.map((t) => [t.oid, t.name]));
        const resultColumns: Column[] = res.fields.map((f) => {
          const m = meta.get(`${f.tableID}:${f.columnID}`);
          const outerSide = m ? new RegExp(`\\b(LEFT|FULL)\\s+(OUTER\\s+)?JOIN\\s+"?${m.table}"?\\b`, 'i').test(body) || /\bRIGHT\s+(OUTER\s+)?JOIN\b/i.test(body) : true;
          return { name: f.name, typ: typOf(typeName.get(f.dataTypeID) ?? 'unknown'), nullable: !(m?.notNull && !outerSide) };
        });
        out.push({ name: q.name, source: q.source, documentation: doc, parameters, resultColumns });
      } finally {
        await c.query('ROLLBACK');
      }
    }
    return { queries: out };
  } finally {
    await c.end();
  }
}
