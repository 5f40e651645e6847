// `npm run prisma:sql`: regenerate TypedSQL (prisma/sql/*.sql → activities/repositories/sql/*.ts)
// after editing a query or a migration. Uses DATABASE_URL, or a throwaway embedded PostgreSQL;
// either is migrated first, since PostgreSQL types each query against the schema.
import { mkdtempSync, chmodSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../prisma/migrate.js';
import { generateTypedSql, TYPED_SQL_DIR } from '../prisma/typed-sql.js';
import { startEmbeddedPostgres, type EmbeddedPg } from './embedded/postgres.js';
import { freePort } from './embedded/temporal.js';

let pg: EmbeddedPg | null = null;
let scratch: string | null = null;
let url = process.env.DATABASE_URL;
try {
  if (!url) {
    scratch = mkdtempSync(join(tmpdir(), 'stablerail-pg-'));
    chmodSync(scratch, 0o755);
    pg = await startEmbeddedPostgres({ dataDir: join(scratch, 'data'), port: await freePort(), log: (l) => console.error(l), fsync: false });
    url = pg.url;
  }
  await migrate(url, (l) => console.error(l));
  const files = generateTypedSql(url);
  mkdirSync(TYPED_SQL_DIR, { recursive: true });
  for (const f of readdirSync(TYPED_SQL_DIR)) if (!files.has(f)) rmSync(join(TYPED_SQL_DIR, f));
  for (const [f, text] of files) writeFileSync(join(TYPED_SQL_DIR, f), text);
  console.log(`wrote ${[...files.keys()].join(', ')} to ${TYPED_SQL_DIR}`);
} finally {
  await pg?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
