// One stack for the whole suite: a real embedded PostgreSQL, a real Temporal dev server,
// the payment worker and the API, started once by the root hooks and shared by every test.
import { mkdirSync, mkdtempSync, chmodSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { parseConfig, type StablerailConfig } from '../activities/config.js';
import { createApiKey, createMerchant, SCOPES, type Environment, type Scope } from '../activities/merchant.js';
import { createLogger } from '../api/logger.js';
import { bootstrapFirstAdmin, createOperator, type Role } from '../activities/operators.js';
import { devnetRails, devnetTreasuryAddress, devnetTronTreasuryAddress, ensureDevnetKeystore } from '../scripts/devnet-rails.js';
import { startStack, type Stack } from '../scripts/stack.js';
import { WORKFLOWS_PATH, WORKFLOW_INTERCEPTOR_MODULES, installWorkerRuntime } from '../workers/runtime.js';
import { freePort } from '../scripts/embedded/temporal.js';
import { startRpcProxy, type RpcProxy } from './rpc-proxy.js';

export const TEST_MNEMONIC = 'test test test test test test test test test test test junk';
/** Long enough to see cooling_off, short enough for a test. */
export const DESTINATION_COOLING_OFF_S_TEST = 2;
/**
 * The first admin operator's personal token and id, made when the stack starts (ESM live
 * bindings: every importer sees them once the root hook ran). Other operators: newOperator().
 */
export let ADMIN_TOKEN = '';
export let ADMIN_OPERATOR_ID = '';

export interface Harness {
  stack: Stack;
  config: StablerailConfig;
  bundle: WorkflowBundleWithSourceMap;
  dataDir: string;
  masterKey: Buffer;
  /** Every log line the API and workers wrote, for the no-secrets-in-logs test. */
  logs: string[];
  /** The suite's config as a JSON file (STABLERAIL_CONFIG for child processes). */
  configPath: string;
  /** The EVM rail's two RPC URLs are these forwarders to the devnet, so tests can fail "a node". */
  rpcProxies: RpcProxy[];
  /** Run before the stack stops (workers and processes a test started). */
  cleanups: Array<() => Promise<void>>;
}

let harness: Harness | null = null;

export function testConfig(baseUrl = 'http://127.0.0.1:0', overrides: Record<string, unknown> = {}, urls = { evm: ['http://127.0.0.1:8545'], tron: 'http://127.0.0.1:8546' }): StablerailConfig {
  const rails = devnetRails({ mnemonic: TEST_MNEMONIC, evmRpcUrl: urls.evm[0]!, tronRpcUrl: urls.tron });
  rails[0]!.rpc_urls = urls.evm;
  return parseConfig(
    {
      base_url: baseUrl,
      rails,
      monitor_after_close_s: 5,
      // The whole suite calls from 127.0.0.1: the per-address limit is tested on its own app.
      rate_limit: { per_s: 2000, burst: 4000, address_per_s: 2000, address_burst: 4000 },
      // Tests start their runs themselves; the Schedule is tested on its own.
      reconciliation_interval_s: 0,
      ...overrides,
    },
    { base_url: baseUrl },
  );
}

export async function startHarness(): Promise<Harness> {
  // Resilience tests fail activities on purpose; the SDK's retry warnings would drown the report.
  process.env.TEMPORAL_LOG_LEVEL ??= 'ERROR';
  // The suite's teardown need not wait a deploy's drain: a test's activities finish in seconds.
  process.env.STABLERAIL_SHUTDOWN_GRACE ??= '5s';
  installWorkerRuntime();
  const root = mkdtempSync(join(tmpdir(), 'stablerail-test-'));
  chmodSync(root, 0o755); // the embedded server runs as the postgres user
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger(stream, 'info');
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
  // The suite's devnet listens on free ports, never on the 8545 a developer's `npm start` may hold.
  const ports = { evm: await freePort(), tron: await freePort() };
  const devnetUrl = `http://127.0.0.1:${ports.evm}`;
  const rpcProxies = [await startRpcProxy(() => devnetUrl), await startRpcProxy(() => devnetUrl)];
  const signer = await ensureDevnetKeystore(dataDir, TEST_MNEMONIC);
  const config = testConfig(undefined, { payouts: { signer, destination_cooling_off_s: DESTINATION_COOLING_OFF_S_TEST } }, { evm: rpcProxies.map((p) => p.url), tron: `http://127.0.0.1:${ports.tron}` });
  const masterKey = randomBytes(32);
  const stack = await startStack({
    dataDir, config, apiPort: 0, temporalPort: 0, logger, ephemeral: true, workflowBundle: bundle, masterKey,
    devnet: { port: ports.evm, mnemonic: TEST_MNEMONIC, tronPort: ports.tron, fund: [devnetTreasuryAddress(TEST_MNEMONIC)], fundTron: [devnetTronTreasuryAddress(TEST_MNEMONIC)] },
  });
  config.base_url = stack.apiUrl;
  const first = await bootstrapFirstAdmin(stack.pool, 'admin@suite.test', 'test-harness');
  ADMIN_TOKEN = first!.token.secret;
  ADMIN_OPERATOR_ID = first!.operator.id;
  // The same config as a file, for child processes (the CLI, extra API processes).
  const configPath = join(dataDir, 'config.json');
  const { base_url, rails, monitor_after_close_s, rate_limit, temporal, reconciliation_interval_s, payouts } = config;
  writeFileSync(configPath, JSON.stringify({ base_url, rails, monitor_after_close_s, rate_limit, temporal, reconciliation_interval_s, payouts }));
  harness = { stack, config, bundle, dataDir, logs, configPath, masterKey, rpcProxies, cleanups: [] };
  return harness;
}

/**
 * Serve the helpers (api, newMerchant, asOperator, the devnet and payout helpers) from another
 * suite's stack: the cluster test's, whose API and workers are separate processes.
 */
export function adoptHarness(x: Harness, admin: { token: string; operatorId: string }): void {
  harness = x;
  ADMIN_TOKEN = admin.token;
  ADMIN_OPERATOR_ID = admin.operatorId;
}

export function h(): Harness {
  if (!harness) throw new Error('harness not started');
  return harness;
}

export async function stopHarness(): Promise<void> {
  namedOperators.clear();
  for (const c of harness?.cleanups.reverse() ?? []) await c().catch(() => undefined);
  await harness?.stack.stop();
  for (const p of harness?.rpcProxies ?? []) await p.close();
  harness = null;
}

export async function newMerchant(opts: { environment?: Environment; scopes?: Scope[]; name?: string } = {}) {
  const { stack, config } = h();
  const m = await createMerchant(stack.pool, config, opts.name ?? 'Test merchant', 'test');
  const key = await createApiKey(stack.pool, m.id, opts.environment ?? 'sandbox', opts.scopes ?? [...SCOPES], 'test');
  return { merchantId: m.id, key: key.secret, keyId: key.id };
}

export interface HttpResult {
  status: number;
  body: any;
  headers: Headers;
}

export async function api(method: string, path: string, opts: { key?: string; body?: unknown; rawBody?: string; idem?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.idem) headers['idempotency-key'] = opts.idem;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${h().stack.apiUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch { /* not JSON: keep text */ }
  return { status: res.status, body: parsed, headers: res.headers };
}

export const admin = (method: string, path: string, body?: unknown) => api(method, path, { key: ADMIN_TOKEN, body });

const namedOperators = new Map<string, Promise<Awaited<ReturnType<typeof newOperator>>>>();
/**
 * The suite's named people ('alice', 'bob', 'ops-carol', …): each an approver with their own
 * token, made once per run, so "two different operators" means two accounts, as in production.
 */
export function asOperator(name: string) {
  if (!namedOperators.has(name)) namedOperators.set(name, newOperator('approver', name));
  return async (method: string, path: string, body?: unknown) => (await namedOperators.get(name)!).call(method, path, body);
}
export const operatorNamed = (name: string) => {
  asOperator(name);
  return namedOperators.get(name)!;
};

/** Another operator with their own personal token (approvers for two-person rules, viewers for refusals). */
export async function newOperator(role: Role, name: string = role) {
  const { operator, token } = await createOperator(h().stack.pool, { email: `${name}-${randomBytes(4).toString('hex')}@suite.test`, name, role }, `${ADMIN_OPERATOR_ID}@test`);
  const call = (method: string, path: string, body?: unknown) => api(method, path, { key: token.secret, body });
  return { id: operator.id, token: token.secret, tokenId: token.row.id, call };
}

/** Poll until fn returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
