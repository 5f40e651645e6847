// The Prisma CLI's configuration. Run the CLI as `npm run prisma -- <command>` (scripts/prisma.mjs),
// not `npx prisma`: the wrapper puts scripts/schema-engine.mjs (Prisma's schema engine as
// WebAssembly) where the CLI would otherwise download a native binary. Commands that touch a
// database (migrate deploy|status|diff, generate --sql) use DATABASE_URL.
import { defineConfig } from 'prisma/config';
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  typedSql: { path: 'prisma/sql' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:5432/stablerail' },
});
