// The real Temporal server with mutual TLS on its frontend, and Stablerail's processes reaching
// it through @temporalio/envconfig: the CLI with TEMPORAL_TLS_* variables, a worker and a client
// with a temporal.toml profile, and a connection without a client certificate refused.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { startEmbeddedPostgres, PG_PASSWORD, PG_USER, type EmbeddedPg } from '../../scripts/embedded/postgres.js';
import { freePort } from '../../scripts/embedded/temporal.js';
import { startTemporalServer, type TemporalServer } from '../../scripts/temporal-server.js';
import { connectTemporalClient, connectTemporalWorker, temporalConnectionSettings } from '../../temporal-config/connection.js';
import { SEARCH_ATTRIBUTE_DEFS } from '../../temporal-config/search-attributes.js';
import { installWorkerRuntime } from '../../workers/runtime.js';
import { trivialCreateUpdate, type trivialCreateWorkflow } from '../../scripts/bench/workflows/trivial.js';

const CLI = fileURLToPath(new URL('../../scripts/stablerail.mjs', import.meta.url));
const TRIVIAL = fileURLToPath(new URL('../../scripts/bench/workflows/trivial.ts', import.meta.url));

/** A CA, a server certificate for localhost and a client certificate, made with openssl now. */
function makeCertificates(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=stablerail-test-ca');
  const issue = (name: string, cn: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  };
  // The server's certificate is also its own system worker's client certificate.
  issue('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  issue('client', 'stablerail-worker', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string) => join(dir, f);
  return { ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key') };
}

describe('Temporal server with mTLS, reached through envconfig', function () {
  this.timeout(600_000);
  let root = '';
  let pgServer: EmbeddedPg | null = null;
  let server: TemporalServer | null = null;
  let certs: ReturnType<typeof makeCertificates>;

  before(async function () {
    installWorkerRuntime();
    root = mkdtempSync(join(tmpdir(), 'stablerail-tls-'));
    chmodSync(root, 0o755);
    certs = makeCertificates(root);
    const pgPort = await freePort();
    pgServer = await startEmbeddedPostgres({ dataDir: join(root, 'pg'), port: pgPort, fsync: false });
    server = await startTemporalServer({
      dataDir: join(root, 'temporal'),
      postgres: { host: '127.0.0.1', port: pgPort, user: PG_USER, password: PG_PASSWORD },
      tls: { certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.ca, serverName: 'localhost' },
    });
  });

  after(async function () {
    await server?.stop();
    await pgServer?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const tlsEnv = () => ({
    TEMPORAL_ADDRESS: server!.address,
    TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  });

  it('refuses a connection without a client certificate, and one that does not trust the server', async () => {
    // TLS with the right CA but no client certificate: the handshake fails.
    await assert.rejects(async () => {
      const c = await Connection.connect({ address: server!.address, connectTimeout: 5000, tls: { serverNameOverride: 'localhost', serverRootCACertificate: (await import('node:fs')).readFileSync(certs.ca) } });
      try {
        await c.workflowService.getSystemInfo({});
      } finally {
        await c.close();
      }
    });
    // Plain text to a TLS frontend: refused as well.
    await assert.rejects(async () => {
      const c = await Connection.connect({ address: server!.address, connectTimeout: 5000 });
      try {
        await c.workflowService.getSystemInfo({});
      } finally {
        await c.close();
      }
    });
  });

  it('`stablerail temporal setup` connects with TEMPORAL_TLS_* variables and finds the namespace and its search attributes', async () => {
    const dataDir = join(root, 'cli');
    const r = spawnSync(process.execPath, [CLI, 'temporal', 'setup'], {
      env: { ...process.env, ...tlsEnv(), TEMPORAL_NAMESPACE: 'stablerail', STABLERAIL_DATA_DIR: dataDir, TEMPORAL_CONFIG_FILE: join(root, 'absent.toml') },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    assert.equal(out.namespace, 'stablerail');
    // The server script registered them at start: setup finds them and adds none.
    assert.deepEqual(out.searchAttributesAdded, []);
    const settings = temporalConnectionSettings({ overrideEnvVars: tlsEnv(), disableFile: true });
    const conn = await connectTemporalClient(settings);
    try {
      const sa = await conn.operatorService.listSearchAttributes({ namespace: 'stablerail' });
      for (const d of SEARCH_ATTRIBUTE_DEFS) assert.ok(d.name in (sa.customAttributes ?? {}), `${d.name} registered`);
    } finally {
      await conn.close();
    }
  });

  it('a worker and a client configured by a temporal.toml profile run a workflow over mTLS', async () => {
    const toml = join(root, 'temporal.toml');
    writeFileSync(toml, [
      '[profile.default]', 'address = "127.0.0.1:1"', '',
      '[profile.cluster]', `address = "${server!.address}"`, 'namespace = "stablerail"',
      '[profile.cluster.tls]', `client_cert_path = "${certs.clientCert}"`, `client_key_path = "${certs.clientKey}"`, `server_ca_cert_path = "${certs.ca}"`, 'server_name = "localhost"', '',
    ].join('\n'));
    const settings = temporalConnectionSettings({ overrideEnvVars: { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cluster' } });
    assert.equal(settings.address, server!.address);
    assert.equal(settings.namespace, 'stablerail');
    const native = await connectTemporalWorker(settings);
    const conn = await connectTemporalClient(settings);
    const taskQueue = `tls-${randomBytes(4).toString('hex')}`;
    const worker = await Worker.create({ connection: native, namespace: settings.namespace!, taskQueue, workflowsPath: TRIVIAL });
    const running = worker.run();
    try {
      const client = new Client({ connection: conn, namespace: settings.namespace! });
      const id = `tls-${randomBytes(6).toString('hex')}`;
      const start = new WithStartWorkflowOperation<typeof trivialCreateWorkflow>('trivialCreateWorkflow', { taskQueue, workflowId: id, workflowIdConflictPolicy: 'USE_EXISTING', args: [] });
      const answer = await client.workflow.executeUpdateWithStart(trivialCreateUpdate, { args: [id], startWorkflowOperation: start });
      assert.deepEqual(answer, { id });
      await client.workflow.getHandle(id).result();
      assert.equal((await client.workflow.getHandle(id).describe()).status.name, 'COMPLETED');
    } finally {
      worker.shutdown();
      await running;
      await conn.close();
      await native.close();
    }
  });
});
