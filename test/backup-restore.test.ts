// docs/operations.md "Backup and restore", run as written: the product (API, payment worker,
// chain worker) on a database of its own, real payments through their workflows so payments,
// ledger and evidence rows exist, then `pg_dump --format=custom` of that database, `pg_restore
// --no-owner` into a fresh one, and on the restored copy `stablerail evidence verify` (same head
// hash as the original) and `stablerail migrate status` (nothing pending). A row changed in the
// restored copy then fails verification, so the check can fail.
//
// The database server is the distribution's PostgreSQL (test/system-postgres.ts), not the
// embedded one: pg_dump must be at least the server's major version, and the embedded server
// (18) ships no pg_dump while Debian's client tools are 15.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { Wallet } from 'ethers';
import { createPool, type Pool } from '../activities/db.js';
import { verifyEvidence } from '../activities/evidence.js';
import { parseConfig, type StablerailConfig } from '../activities/config.js';
import { createApiKey, createMerchant, SCOPES } from '../activities/merchant.js';
import { ensureAddressSequences } from '../activities/deposit-address.js';
import { createApp } from '../api/app.js';
import { createLogger } from '../api/logger.js';
import { createMetrics } from '../api/metrics.js';
import { migrate } from '../prisma/migrate.js';
import { devnetRails } from '../scripts/devnet-rails.js';
import { setupTemporal } from '../temporal-config/setup.js';
import { createPaymentWorker } from '../workers/payment-worker.js';
import { createChainWorker, startWatchers } from '../workers/chain-worker.js';
import { watcherWorkflowId } from '../workflows/shared.js';
import { eventually, h } from './harness.js';
import { mine, pay } from './chain-helpers.js';
import { startSystemPostgres, type SystemPostgres } from './system-postgres.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A shell command line as an operator types it, with `env` added to the environment. */
function sh(command: string, env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const REPO = process.cwd();
const stablerailCli = (args: string, databaseUrl: string) => sh(`node ${join(REPO, 'scripts/stablerail.mjs')} ${args}`, { DATABASE_URL: databaseUrl }, REPO);

/** The tables the restore must bring back row for row. */
const COUNTED_TABLES = ['merchants', 'payments', 'payment_transitions', 'events', 'evidence', 'ledger_entries', 'ledger_lines', 'chain_transfers'] as const;

async function counts(pool: Pool): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of COUNTED_TABLES) out[t] = (await pool.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n;
  return out;
}

describe('backup and restore (docs/operations.md)', function () {
  this.timeout(120_000);
  let pg: SystemPostgres | null = null;
  let pool: Pool | null = null;
  let restoredPool: Pool | null = null;
  let server: Server | null = null;
  let client: Client | null = null;
  let connection: Connection | null = null;
  const workers: Array<{ worker: Worker; running: Promise<void> }> = [];
  let workDir = '';
  let databaseUrl = '';
  let namespace = '';
  let config: StablerailConfig | null = null;

  const stopProduct = async () => {
    for (const w of workers.splice(0)) {
      if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
      await w.running;
    }
    if (server) {
      const closed = new Promise<void>((r) => server!.close(() => r()));
      server.closeAllConnections();
      await closed;
      server = null;
    }
  };

  before(async () => {
    const { stack, bundle, rpcProxies } = h();
    pg = await startSystemPostgres();
    workDir = mkdtempSync(join(tmpdir(), 'stablerail-backup-'));
    const admin = createPool(pg.url('postgres'), 1);
    await admin.query('CREATE DATABASE stablerail');
    await admin.end();
    databaseUrl = pg.url('stablerail');
    await migrate(databaseUrl, () => undefined);
    // A namespace and rail xpubs of its own: the suite's workers and watchers never see this database's payments.
    namespace = `backup-${randomBytes(4).toString('hex')}`;
    const rails = devnetRails({ mnemonic: Wallet.createRandom().mnemonic!.phrase, evmRpcUrl: rpcProxies[0]!.url, tronRpcUrl: 'http://127.0.0.1:9' }).filter((r) => r.kind === 'evm');
    config = parseConfig({ base_url: 'http://127.0.0.1:0', rails, reconciliation_interval_s: 0, monitor_after_close_s: 5, temporal: { namespace } }, { base_url: 'http://127.0.0.1:0' });
    pool = createPool(databaseUrl, 8);
    await ensureAddressSequences(pool, rails);
    connection = await Connection.connect({ address: stack.temporalAddress });
    await setupTemporal(connection, namespace, config);
    client = new Client({ connection, namespace });
    const run = (worker: Worker) => workers.push({ worker, running: worker.run() });
    run(await createPaymentWorker({ connection: stack.nativeConnection, namespace, pool, config, workflowBundle: bundle }));
    run(await createChainWorker({ connection: stack.nativeConnection, namespace, pool, config, client, workflowBundle: bundle }));
    await startWatchers(client, rails);
    const quiet = createLogger(new Writable({ write: (_c, _e, cb) => cb() }), 'silent');
    const app = createApp({ pool, config, temporal: client, metrics: createMetrics(pool, { temporal: client }), masterKey: randomBytes(32) }, quiet);
    server = await new Promise<Server>((res) => {
      const s = app.listen(0, '127.0.0.1', () => res(s));
    });
  });

  after(async () => {
    await stopProduct();
    // The watcher never ends on its own; its namespace outlives the test on the suite's server.
    await client?.workflow.getHandle(watcherWorkflowId('usdt-erc20')).terminate('backup test done').catch(() => undefined);
    await connection?.close();
    await pool?.end();
    await restoredPool?.end();
    pg?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('a pg_dump restored with pg_restore into a fresh database verifies with the same evidence head, the same rows and no pending migration; a changed evidence row there fails verification', async () => {
    const base = `http://127.0.0.1:${(server!.address() as { port: number }).port}`;
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': randomBytes(8).toString('hex') }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const merchant = await createMerchant(pool!, config!, 'Backup merchant', 'test');
    const key = (await createApiKey(pool!, merchant.id, 'sandbox', [...SCOPES], 'test')).secret;

    // One payment paid to confirmation (its transfer, transitions, events, evidence and pending
    // ledger posting) and one canceled (a transition without money).
    const paid = await call('POST', '/v1/payments', key, { amount: '25.00', rail: 'usdt-erc20', reference: 'backup-paid' });
    assert.equal(paid.status, 201, JSON.stringify(paid.body));
    const canceled = await call('POST', '/v1/payments', key, { amount: '7.50', rail: 'usdt-erc20', reference: 'backup-canceled' });
    assert.equal(canceled.status, 201, JSON.stringify(canceled.body));
    assert.equal((await call('POST', `/v1/payments/${canceled.body.id}/cancel`, key)).status, 200);
    await pay(paid.body.deposit_address, 25_000_000n);
    await mine(4);
    await eventually(async () => (await call('GET', `/v1/payments/${paid.body.id}`, key)).body.status === 'confirmed', 30_000, 100);
    await eventually(async () => (await pool!.query(`SELECT count(*)::int AS n FROM ledger_entries`)).rows[0].n > 0, 15_000, 100);

    // pg_dump takes one consistent snapshot even while the product writes; the product stops
    // first only so the original stays comparable row for row afterwards.
    await stopProduct();
    const original = await counts(pool!);
    for (const t of ['payments', 'evidence', 'ledger_entries', 'ledger_lines', 'chain_transfers'] as const) assert.ok(original[t]! > 0, `the original has ${t} rows`);
    // The function `stablerail evidence verify` runs; the restored copy is checked with the CLI itself.
    const originalChain = await verifyEvidence(pool!);
    assert.ok(originalChain.ok);
    assert.equal(originalChain.checked, original.evidence, 'every evidence row is in the chain');

    // docs/operations.md, with the server's own client tools first on PATH (see the version caveat there).
    const newUrl = new URL(databaseUrl);
    newUrl.pathname = '/stablerail_restored';
    const env = { PATH: `${pg!.bin}:${process.env.PATH}`, DATABASE_URL: databaseUrl, NEW_DATABASE_URL: newUrl.toString() };
    const dump = await sh('pg_dump --format=custom --file=stablerail-$(date +%F).dump "$DATABASE_URL"', env, workDir);
    assert.equal(dump.code, 0, dump.stderr);
    const dumpFile = readdirSync(workDir).find((f) => /^stablerail-\d{4}-\d{2}-\d{2}\.dump$/.test(f));
    assert.ok(dumpFile, 'the dump is written under its dated name');
    const create = await sh('createdb --maintenance-db="$DATABASE_URL" stablerail_restored', env, workDir);
    assert.equal(create.code, 0, create.stderr);
    const restore = await sh(`pg_restore --no-owner --exit-on-error --dbname="$NEW_DATABASE_URL" ${dumpFile}`, env, workDir);
    assert.equal(restore.code, 0, restore.stderr);

    const [restoredVerify, status] = await Promise.all([stablerailCli('evidence verify', newUrl.toString()), stablerailCli('migrate status', newUrl.toString())]);
    assert.equal(restoredVerify.code, 0, restoredVerify.stdout + restoredVerify.stderr);
    assert.equal(restoredVerify.stdout.trim(), `evidence chain intact: ${originalChain.checked} entries, head ${originalChain.headHash}`, 'the same entries and the same head hash');
    // docs: the original's entry at the copy's head seq has the copy's head hash.
    const [, n, copyHead] = /intact: (\d+) entries, head ([0-9a-f]{64})/.exec(restoredVerify.stdout)!;
    const atHead = await sh(`psql "$DATABASE_URL" --tuples-only --no-align --command="SELECT hash FROM evidence WHERE seq = ${n}"`, env, workDir);
    assert.equal(atHead.code, 0, atHead.stderr);
    assert.equal(atHead.stdout.trim(), copyHead);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const s = JSON.parse(status.stdout);
    assert.equal(s.history, null, 'the migration history matches prisma/migrations: nothing pending');
    assert.deepEqual([s.failedMigrationNames, s.editedMigrationNames], [[], []]);
    restoredPool = createPool(newUrl.toString(), 2);
    assert.deepEqual(await counts(restoredPool), original);

    // The immutability triggers came back with the data: a plain UPDATE is refused, even to a superuser.
    await assert.rejects(restoredPool.query(`UPDATE evidence SET actor = 'mallory' WHERE seq = 2`), /evidence/i);
    // Someone with the power to bypass triggers (a superuser's replica mode) edits one entry: verify names it.
    const victim = Math.max(1, Math.floor(original.evidence! / 2));
    const c = await restoredPool.connect();
    try {
      await c.query(`SET session_replication_role = replica`);
      const changed = await c.query(`UPDATE evidence SET payload = payload || '{"tampered": true}'::jsonb WHERE seq = $1`, [victim]);
      assert.equal(changed.rowCount, 1);
    } finally {
      await c.query(`RESET session_replication_role`);
      c.release();
    }
    const tampered = await stablerailCli('evidence verify', newUrl.toString());
    assert.equal(tampered.code, 1, tampered.stdout + tampered.stderr);
    assert.match(tampered.stdout, new RegExp(`evidence chain BROKEN at seq ${victim}: hash does not match the entry content`));
  });
});
