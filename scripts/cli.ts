// The `stablerail` CLI: migrations, evidence verification and export, and the production
// processes (`stablerail api`, `worker`, `chain-worker`, `webhook-worker`, `payout-worker`,
// `signer`; scripts/processes.ts) that read DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// STABLERAIL_CONFIG and STABLERAIL_MASTER_KEY from the environment.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { connectTemporalClient, temporalConnectionSettings, type TemporalConnectionSettings } from '../temporal-config/connection.js';
import { createPool } from '../activities/db.js';
import { loadConfigFile, parseConfig, type StablerailConfig } from '../activities/config.js';
import { verifyEvidence } from '../activities/evidence.js';
import { keyFingerprint, rotateMasterKey } from '../activities/master-key-rotation.js';
import { createOperator, ROLES, type Role } from '../activities/operators.js';
import { DomainError } from '../activities/merchant.js';
import { diffMigrationsToSchema, migrate, migrationStatus } from '../prisma/migrate.js';
import { IMPORT_BATCH_ROWS, parseOrdersCsv } from '../activities/orders.js';
import { breaksCsv, newRunId, runObject, runProgress } from '../activities/reconciliation.js';
import { findRun, breaksFoundByRun } from '../activities/repositories/reconciliation.js';
import { TASK_QUEUES } from '../workflows/shared.js';
import { parseMasterKey } from '../activities/webhooks/secret-box.js';
import { devnetRails, loadOrCreateDevnetWallet } from './devnet-rails.js';
import { runConfigCheck } from './config-check.js';
// The processes (API, workers) and the evidence pack load the whole product; they are imported
// where used, so `evidence verify` and `migrate status` (a restore's checks) start in a second.
import type { ProcessEnv } from './processes.js';

const USAGE = `usage: stablerail <command>
  migrate [deploy]             apply prisma/migrations to DATABASE_URL (Prisma Migrate's schema
                               engine, run as WebAssembly: \`prisma migrate deploy\`)
  migrate status               the database's migration history against prisma/migrations
  migrate diff [--script]      replay prisma/migrations into a shadow database on DATABASE_URL's
                               server and compare with prisma/schema.prisma; exit 2 when they
                               differ (\`prisma migrate diff --exit-code\`)
  evidence verify              check the evidence hash chain; exit 1 at the first broken link
  evidence export <pay_id>     print a payment's evidence pack as JSON
  reconcile [--environment sandbox|live] [--merchant mer_…] [--grace-s N] [--csv FILE]
                               run a three-plane reconciliation now, with progress; print the
                               summary and write the breaks as CSV
  orders import <file.csv>     import orders (reference, amount, asset[, status]) through the API
                               with STABLERAIL_API_URL and STABLERAIL_KEY (default: dev.json)
  operators create --email E --role viewer|operator|approver|admin [--name N]
                               create an operator on DATABASE_URL and print their one-time token
  secrets rotate-master-key [--new-key-file F]
                               re-seal every webhook secret and TOTP seed with a new master key in
                               one transaction (STABLERAIL_MASTER_KEY or the data dir's master-key)
  api                          run an API process (PORT, default 8080; STABLERAIL_API_HOST)
  worker                       run a payment worker (payments task queue: payments,
                               reconciliation); at start it registers the namespace's search
                               attributes and Schedules (as \`temporal setup\` does)
  chain-worker                 run a chain worker (watcher task queue); starts one watcher per rail
  webhook-worker               run a webhook delivery worker (webhooks task queue)
  payout-worker                run the payouts task queue (payouts, destinations, sweeps): the
                               only process that talks to the signer (payouts.signer)
  config check FILE            validate a config file; print the effective config and the first
                               deposit addresses each rail's xpub derives (compare with your wallet)
  temporal setup               register the namespace (if missing), its search attributes and the
                               Schedules on TEMPORAL_ADDRESS; idempotent
  signer [init] …              the reference external signer (scripts/signer.ts; docs/signer.md)
  devnet pay <pay_…|pub_…> [--amount X] [--from-third-party] [--no-follow]
                               pay a sandbox payment on its devnet rail (EVM devnet or TRON
                               stand-in) from dev.json's funded payer, print the transaction and
                               follow the payment until it is final (Ctrl-C stops following)
  webhooks listen [--port N]   receive this sandbox merchant's webhooks on loopback, verify each
                               signature and print it (STABLERAIL_API_URL, STABLERAIL_KEY or dev.json)`;

function dataDir(): string {
  return resolve(process.env.STABLERAIL_DATA_DIR ?? '.stablerail');
}

/** DATABASE_URL, or the embedded database of a running `npm start` (from dev.json). */
function databaseUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const dev = join(dataDir(), 'dev.json');
  if (existsSync(dev)) return JSON.parse(readFileSync(dev, 'utf8')).database_url;
  throw new Error('set DATABASE_URL (or run `npm start`, which records its database in .stablerail/dev.json)');
}

function config(): StablerailConfig {
  const cfg = loadedConfig();
  // TEMPORAL_NAMESPACE wins over the file's temporal.namespace, for every command and route alike.
  if (process.env.TEMPORAL_NAMESPACE) cfg.temporal.namespace = process.env.TEMPORAL_NAMESPACE;
  return cfg;
}

function loadedConfig(): StablerailConfig {
  const base = process.env.STABLERAIL_BASE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`;
  if (process.env.STABLERAIL_CONFIG) return loadConfigFile(process.env.STABLERAIL_CONFIG, { base_url: base });
  mkdirSync(dataDir(), { recursive: true });
  const wallet = loadOrCreateDevnetWallet(join(dataDir(), 'devnet-wallet.json'));
  const port = Number(process.env.STABLERAIL_DEVNET_PORT ?? 8545);
  return parseConfig({ base_url: base, rails: devnetRails({ mnemonic: wallet.mnemonic, evmRpcUrl: `http://127.0.0.1:${port}`, tronRpcUrl: `http://127.0.0.1:${port + 1}` }) }, { base_url: base });
}

/**
 * `stablerail migrate` in a child process, for the long-running processes: the schema engine's
 * WebAssembly memory (~50 MB) then goes away with the child instead of staying in the server.
 */
function migrateInChild(): void {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'migrate'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DATABASE_URL: databaseUrl() } });
  if (r.status !== 0) throw new Error(`stablerail migrate failed (exit ${r.status ?? r.signal})`);
}

/** What `npm start` wrote for the newcomer (API URL, sandbox key, devnet payer, rails); {} when absent. */
function devJson(): { api_url?: string; base_url?: string; secret_key?: string; payer_private_key?: string; rails?: Array<{ id: string; rpc_url?: string }> } {
  const path = join(dataDir(), 'dev.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
}

/**
 * Temporal connection settings (@temporalio/envconfig: TEMPORAL_ADDRESS, TLS, API key, or a
 * temporal.toml profile); without an address there, the dev server of a running `npm start`.
 */
function temporalSettings(): TemporalConnectionSettings {
  const dev = join(dataDir(), 'dev.json');
  const fallbackAddress = existsSync(dev) ? (JSON.parse(readFileSync(dev, 'utf8')).temporal.address as string) : undefined;
  return temporalConnectionSettings({ fallbackAddress });
}

async function main(argv: string[]): Promise<number> {
  const [cmd, sub, arg] = argv;
  if (cmd === 'migrate' && (sub === undefined || sub === 'deploy')) {
    const r = await migrate(databaseUrl(), (l) => console.log(l));
    console.log(`${r.applied.length} applied, ${r.alreadyApplied} already applied`);
    return 0;
  }
  if (cmd === 'migrate' && sub === 'status') {
    const s = await migrationStatus(databaseUrl());
    console.log(JSON.stringify(s, null, 2));
    return s.history === null && s.failedMigrationNames.length === 0 && s.editedMigrationNames.length === 0 ? 0 : 1;
  }
  if (cmd === 'migrate' && sub === 'diff') {
    const d = await diffMigrationsToSchema(databaseUrl(), { script: arg === '--script', log: (l) => console.error(l) });
    console.log(d.output.trimEnd());
    return d.exitCode;
  }
  if (cmd === 'operators' && sub === 'create') {
    const args = argv.slice(2);
    const email = flag(args, '--email');
    const role = flag(args, '--role');
    if (!email || !role || !(ROLES as readonly string[]).includes(role)) {
      console.error(`usage: stablerail operators create --email E --role ${ROLES.join('|')} [--name N]`);
      return 2;
    }
    const pool = createPool(databaseUrl(), 2);
    try {
      // The shell's user stands in for the actor: this is how the first admin of a production database is made.
      const { operator, token } = await createOperator(pool, { email, role: role as Role, name: flag(args, '--name') }, `cli:${process.env.USER ?? 'unknown'}`);
      console.log(JSON.stringify({ id: operator.id, email: operator.email, role: operator.role, token: token.secret, token_id: token.row.id }, null, 2));
      console.error('The token is shown once: store it now (Authorization: Bearer opk_…).');
      return 0;
    } catch (err) {
      if (err instanceof DomainError) {
        console.error(`${err.code}: ${err.message}`);
        return 1;
      }
      throw err;
    } finally {
      await pool.end();
    }
  }
  if (cmd === 'secrets' && sub === 'rotate-master-key') {
    // The current key: STABLERAIL_MASTER_KEY, or the data directory's file (npm start).
    const keyFile = join(dataDir(), 'master-key');
    const fromEnv = process.env.STABLERAIL_MASTER_KEY;
    if (!fromEnv && !existsSync(keyFile)) throw new Error(`set STABLERAIL_MASTER_KEY (or run where ${keyFile} exists)`);
    const current = parseMasterKey(fromEnv ?? readFileSync(keyFile, 'utf8'));
    // The next key: a file given with --new-key-file (made now if it does not exist), else a new one.
    const nextFile = flag(argv.slice(2), '--new-key-file');
    if (fromEnv && !nextFile) throw new Error('with STABLERAIL_MASTER_KEY set, give --new-key-file FILE: the new key is written there (0600) for your secret store');
    const next = nextFile && existsSync(nextFile) ? parseMasterKey(readFileSync(nextFile, 'utf8')) : randomBytes(32);
    if (nextFile && !existsSync(nextFile)) writeFileSync(nextFile, next.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    const pool = createPool(databaseUrl(), 2);
    try {
      const r = await rotateMasterKey(pool, current, next, `cli:${process.env.USER ?? 'unknown'}`, (n) => process.stderr.write(`\rre-sealed ${n} secrets`));
      process.stderr.write('\n');
      if (!fromEnv) {
        // npm start's file: keep the previous key beside it until every process runs on the new one.
        writeFileSync(`${keyFile}.previous`, current.toString('hex') + '\n', { mode: 0o600 });
        writeFileSync(keyFile, next.toString('hex') + '\n', { mode: 0o600 });
      }
      console.log(JSON.stringify({ rotated: true, webhook_secrets: r.webhookSecrets, totp_seeds: r.totpSeeds, from: keyFingerprint(current), to: keyFingerprint(next), new_key: fromEnv ? nextFile : keyFile }, null, 2));
      console.error('Restart every API and worker process with the new key: sealed secrets no longer open with the old one.');
      return 0;
    } finally {
      await pool.end();
    }
  }
  if (cmd === 'evidence' && sub === 'verify') {
    const pool = createPool(databaseUrl(), 2);
    try {
      const r = await verifyEvidence(pool, (n) => process.stderr.write(`\rchecked ${n} entries`));
      process.stderr.write('\n');
      if (r.ok) {
        console.log(`evidence chain intact: ${r.checked} entries, head ${r.headHash}`);
        return 0;
      }
      console.log(`evidence chain BROKEN at seq ${r.firstBroken!.seq}: ${r.firstBroken!.reason} (${r.checked} entries verified before it)`);
      return 1;
    } finally {
      await pool.end();
    }
  }
  if (cmd === 'evidence' && sub === 'export' && arg) {
    const pool = createPool(databaseUrl(), 2);
    try {
      const { findPayment } = await import('../activities/repositories/payments.js');
      const { evidencePack } = await import('../activities/evidence-pack.js');
      const row = await findPayment(pool, arg);
      if (!row) {
        console.error(`no payment ${arg}`);
        return 1;
      }
      const pack = await evidencePack(pool, config(), row, { namespace: process.env.TEMPORAL_NAMESPACE ?? 'stablerail', uiUrl: process.env.TEMPORAL_UI_URL ?? null });
      console.log(JSON.stringify(pack, null, 2));
      return 0;
    } finally {
      await pool.end();
    }
  }
  if (cmd === 'reconcile') {
    return reconcile(argv.slice(1));
  }
  if (cmd === 'orders' && sub === 'import' && arg) {
    return importOrders(arg);
  }
  if (cmd === 'devnet' && sub === 'pay') {
    const { devnetPay, UsageError } = await import('./devnet-pay.js');
    try {
      return await devnetPay(argv.slice(2), { dev: devJson(), config: config() });
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      console.error(`stablerail devnet pay: ${err.message}`);
      return 2;
    }
  }
  if (cmd === 'webhooks' && sub === 'listen') {
    const { webhooksListen } = await import('./webhooks-listen.js');
    const dev = devJson();
    const apiUrl = process.env.STABLERAIL_API_URL ?? dev.api_url ?? dev.base_url;
    const key = process.env.STABLERAIL_KEY ?? dev.secret_key;
    if (!apiUrl || !key) throw new Error('set STABLERAIL_API_URL and STABLERAIL_KEY (or run `npm start` for dev.json)');
    return webhooksListen(argv.slice(2), { apiUrl, key });
  }
  if (cmd === 'signer') {
    const { main: signerMain } = await import('./signer.js');
    await signerMain(argv.slice(1));
    // `init` and `--help` are done; serving goes on until a signal ends the process.
    if (argv[1] === 'init' || argv.includes('--help') || argv.includes('-h')) return 0;
    return new Promise<number>(() => undefined);
  }
  if (cmd === 'api' || cmd === 'worker' || cmd === 'chain-worker' || cmd === 'webhook-worker' || cmd === 'payout-worker') {
    const { runApi, runChainWorker, runPaymentWorker, runPayoutWorker, runWebhookWorker } = await import('./processes.js');
    const env: ProcessEnv = { config: config(), databaseUrl: databaseUrl(), temporal: temporalSettings(), masterKey, migrate: migrateInChild };
    if (cmd === 'api') return runApi(env);
    if (cmd === 'worker') return runPaymentWorker(env);
    if (cmd === 'chain-worker') return runChainWorker(env);
    if (cmd === 'webhook-worker') return runWebhookWorker(env);
    return runPayoutWorker(env);
  }
  if (cmd === 'config' && sub === 'check') {
    return runConfigCheck(arg);
  }
  if (cmd === 'temporal' && sub === 'setup') {
    const { runTemporalSetup } = await import('./processes.js');
    return runTemporalSetup({ config: config(), temporal: temporalSettings() });
  }
  console.error(USAGE);
  return cmd ? 2 : 0;
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Start a reconciliation workflow and follow its progress in PostgreSQL until it finishes. */
async function reconcile(args: string[]): Promise<number> {
  const cfg = config();
  const environment = (flag(args, '--environment') ?? 'sandbox') as 'sandbox' | 'live';
  const runId = newRunId();
  const temporal = temporalSettings();
  const connection = await connectTemporalClient(temporal);
  const pool = createPool(databaseUrl(), 2);
  try {
    const client = new Client({ connection, namespace: temporal.namespace ?? cfg.temporal.namespace });
    const handle = await client.workflow.start('reconciliationWorkflow', {
      taskQueue: TASK_QUEUES.payments,
      workflowId: runId,
      args: [{ runId, environment, merchantId: flag(args, '--merchant') ?? null, trigger: 'cli', requestedBy: `cli:${process.env.USER ?? 'operator'}`, graceS: Number(flag(args, '--grace-s') ?? 30) }],
    });
    const done = handle.result();
    let finished = false;
    void done.finally(() => (finished = true)).catch(() => undefined);
    while (!finished) {
      const run = await findRun(pool, runId);
      const progress = run && runProgress(run);
      if (progress) process.stderr.write(`\r${runId}: ${progress.classes_done ?? 0}/${progress.classes_total ?? '?'} break classes checked ${progress.last_class ? `(${progress.last_class})` : ''}   `);
      await new Promise((r) => setTimeout(r, 250));
    }
    await done;
    process.stderr.write('\n');
    const run = await findRun(pool, runId);
    if (!run) throw new Error(`run ${runId} ended without its row`);
    const breaks = await breaksFoundByRun(pool, runId);
    console.log(JSON.stringify(runObject(cfg, run), null, 2));
    const csv = flag(args, '--csv');
    if (csv) {
      writeFileSync(csv, breaksCsv(cfg, breaks));
      console.error(`wrote ${breaks.length} breaks to ${csv}`);
    }
    return 0;
  } finally {
    await connection.close();
    await pool.end();
  }
}

/** Upload a CSV of orders in batches through the API, with a progress bar on stderr. */
async function importOrders(file: string): Promise<number> {
  const devPath = join(dataDir(), 'dev.json');
  const dev = existsSync(devPath) ? JSON.parse(readFileSync(devPath, 'utf8')) : {};
  const apiUrl = process.env.STABLERAIL_API_URL ?? dev.api_url ?? dev.base_url;
  const key = process.env.STABLERAIL_KEY ?? dev.secret_key;
  if (!apiUrl || !key) throw new Error('set STABLERAIL_API_URL and STABLERAIL_KEY (or run `npm start` for dev.json)');
  const { orders, errors } = parseOrdersCsv(readFileSync(file, 'utf8'));
  if (errors.length) {
    for (const e of errors.slice(0, 20)) console.error(`line ${e.line}: ${e.message}`);
    console.error(`${errors.length} invalid line(s); nothing imported`);
    return 1;
  }
  let done = 0;
  let changed = 0;
  const bar = () => {
    const width = 30;
    const filled = orders.length ? Math.round((done / orders.length) * width) : width;
    process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${orders.length} orders`);
  };
  bar();
  for (let i = 0; i < orders.length; i += IMPORT_BATCH_ROWS) {
    const batch = orders.slice(i, i + IMPORT_BATCH_ROWS);
    // Each batch's Idempotency-Key is its content hash: re-running the same file converges.
    const res = await fetch(`${apiUrl}/v1/orders/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': `import:${createHash('sha256').update(JSON.stringify(batch)).digest('hex')}` },
      body: JSON.stringify({ orders: batch }),
    });
    const body = await res.json();
    if (res.status !== 200) {
      process.stderr.write('\n');
      console.error(`batch starting at row ${i + 1} refused: ${res.status} ${JSON.stringify(body.error ?? body)}`);
      return 1;
    }
    done += batch.length;
    changed += body.changed;
    bar();
  }
  process.stderr.write('\n');
  console.log(`imported ${orders.length} orders (${changed} new or changed)`);
  return 0;
}

function masterKey(): Buffer {
  const k = process.env.STABLERAIL_MASTER_KEY;
  if (!k) throw new Error('set STABLERAIL_MASTER_KEY (32 bytes, hex or base64): webhook secrets are sealed with it');
  return parseMasterKey(k);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`stablerail: ${(err as Error).message}`);
    process.exit(1);
  },
);
