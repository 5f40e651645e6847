// Stands in for Prisma's native `schema-engine` binary, which no reachable registry ships, so
// the Prisma CLI itself runs `migrate deploy|status|diff|resolve`, `db execute` and
// `generate --sql`: the CLI spawns this (PRISMA_SCHEMA_ENGINE_BINARY, set by scripts/prisma.mjs)
// with the binary's arguments and speaks the binary's JSON-RPC over stdin/stdout; each call is
// answered by the same engine compiled to WebAssembly (prisma/migrate.ts), logs go to stderr
// as JSON lines as the binary writes them.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { openSchemaEngine, schemaEngineVersion, type OpenEngine } from './migrate.js';
import { introspectSql, type SqlQueryInput } from './introspect-sql.js';

interface Args {
  datamodels: string[];
  url: string | null;
  cli: string | null;
  version: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { datamodels: [], url: null, cli: null, version: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--datamodels') a.datamodels.push(argv[++i]!);
    else if (x === '--datasource') a.url = (JSON.parse(argv[++i]!) as { url?: string }).url ?? null;
    else if (x === '--enabled-preview-features' || x === '--extension-types') i++;
    else if (x === '--version' || x === '-V') a.version = true;
    else if (x === 'cli') a.cli = argv[++i] ?? null;
  }
  return a;
}

function logLine(level: 'INFO' | 'ERROR', message: string, extra: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ timestamp: new Date().toISOString(), level, fields: { message, ...extra }, target: 'schema_engine::logger' })}\n`);
}

/** `schema-engine cli can-connect-to-database | create-database | drop-database`. */
async function cliCommand(url: string, cmd: string): Promise<number> {
  // The CLI skips the first line of stderr (the binary's start-up line) before it reads errors.
  logLine('INFO', `schema engine (WebAssembly) cli ${cmd}`);
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1));
  try {
    if (cmd === 'can-connect-to-database') {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.end();
      return 0;
    }
    if (cmd === 'create-database' || cmd === 'drop-database') {
      const admin = new URL(url);
      admin.pathname = '/postgres';
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      try {
        const sql = cmd === 'create-database' ? `CREATE DATABASE "${database.replaceAll('"', '""')}"` : `DROP DATABASE IF EXISTS "${database.replaceAll('"', '""')}"`;
        await c.query(sql);
      } finally {
        await c.end();
      }
      process.stdout.write(`${JSON.stringify({ database_name: database })}\n`);
      return 0;
    }
    logLine('ERROR', `unknown cli command ${cmd}`);
    return 1;
  } catch (err) {
    const e = err as { code?: string; message: string };
    // The CLI reads P1003 (database does not exist) as "create it"; other codes are shown as they are.
    const code = e.code === '3D000' ? 'P1003' : e.code === 'ECONNREFUSED' ? 'P1001' : 'P1000';
    logLine('ERROR', e.message, { error_code: code });
    return 1;
  }
}

interface RpcRequest {
  id: number | string;
  method: string;
  params?: Record<string, unknown>;
}

function panicMessage(): string | null {
  const r = (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { message: string } }).PRISMA_WASM_PANIC_REGISTRY;
  return r?.message || null;
}

async function rpcLoop(a: Args): Promise<number> {
  const datamodels = a.datamodels.map((p) => [p, readFileSync(p, 'utf8')] as [string, string]);
  const url = a.url ?? process.env.DATABASE_URL;
  let open: OpenEngine | null = null;
  const engine = async () => {
    if (!url) throw Object.assign(new Error('no datasource url: set datasource.url in prisma.config.ts'), { code: 'P1012' });
    open ??= await openSchemaEngine(url, datamodels, (line) => process.stderr.write(`${line.trimEnd()}\n`));
    return open.engine;
  };
  const answer = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...o })}\n`);
  let queue = Promise.resolve();
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    const req = JSON.parse(line) as RpcRequest;
    if (!req.method) return; // the CLI's answer to a print request
    // One call at a time, in order, as the binary does.
    queue = queue.then(async () => {
      try {
        if (req.method === 'introspectSql') {
          const p = req.params as { url: string; queries: SqlQueryInput[] };
          answer({ id: req.id, result: await introspectSql(p.url, p.queries) });
          return;
        }
        const e = await engine();
        const method = req.method === 'getDatabaseVersion' ? 'version' : req.method;
        const fn = (e as unknown as Record<string, (p: unknown) => Promise<unknown>>)[method];
        if (typeof fn !== 'function') throw Object.assign(new Error(`method ${req.method} is not supported`), { code: null });
        const result = await fn.call(e, req.params ?? {});
        // The binary prints a diff through the CLI (a `print` request), not in its answer.
        const out = result as { stdout?: string | null } | undefined;
        if (req.method === 'diff' && out?.stdout) {
          answer({ id: `print-${req.id}`, method: 'print', params: { content: out.stdout.trimEnd() } });
          out.stdout = null;
        }
        answer({ id: req.id, result: result ?? null });
      } catch (err) {
        const panic = panicMessage();
        const x = err as { code?: string | null; message: string; meta?: unknown };
        answer({
          id: req.id,
          error: { code: 4466, message: 'An error happened. Check the data field for details.', data: { is_panic: !!panic, message: panic ?? x.message, error_code: x.code ?? undefined, meta: x.meta } },
        });
        if (panic) process.exit(101);
      }
    });
  });
  await new Promise<void>((resolve) => rl.on('close', resolve));
  await queue;
  await (open as OpenEngine | null)?.close();
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  // A Rust panic traps the WebAssembly instance, sometimes outside any call: report it as the binary does.
  process.on('uncaughtException', (err) => {
    logLine('ERROR', panicMessage() ?? String(err), { is_panic: true });
    process.exit(101);
  });
  const a = parseArgs(argv);
  if (a.version) {
    process.stdout.write(`schema-engine-wasm ${await schemaEngineVersion()}\n`);
    return 0;
  }
  if (a.cli) {
    if (!a.url) {
      logLine('ERROR', 'cli commands need --datasource');
      return 1;
    }
    return cliCommand(a.url, a.cli);
  }
  return rpcLoop(a);
}
