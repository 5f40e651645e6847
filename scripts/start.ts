// `npm start`: the whole product on embedded defaults. First run creates the data directory,
// a sandbox merchant and its key, and writes dev.json; later runs reuse all of it.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bootstrapFirstAdmin } from '../activities/operators.js';
import { loadConfigFile, parseConfig, type StablerailConfig } from '../activities/config.js';
import { createApiKey, createMerchant, getMerchant, SCOPES } from '../activities/merchant.js';
import { createLogger } from '../api/logger.js';
import { DEVNET_COOLING_OFF_S, DEVNET_RECONCILIATION_GRACE_S, DEVNET_RECONCILIATION_INTERVAL_S, devnetBlockTimeS, devnetRails, devnetTreasuryAddress, devnetTronTreasuryAddress, ensureDevnetKeystore, loadOrCreateDevnetWallet } from './devnet-rails.js';
import { startStack } from './stack.js';
import { startTracing, stopTracing } from '../temporal-config/tracing.js';
import { LauncherError } from './embedded/launcher-error.js';
import { claimDataDir } from './embedded/orphans.js';
import { loadOrCreateMasterKey } from '../activities/webhooks/secret-box.js';

const dataDir = resolve(process.env.STABLERAIL_DATA_DIR ?? '.stablerail');
const apiPort = Number(process.env.PORT ?? 8080);
const devnetPort = Number(process.env.STABLERAIL_DEVNET_PORT ?? 8545);
const temporalPort = Number(process.env.STABLERAIL_TEMPORAL_PORT ?? 7233);
const logger = createLogger();
// `npm start` hosts every role in one process: one service name for all its spans.
const tracing = startTracing('dev');
if (tracing) logger.info({ service_name: tracing.serviceName }, 'tracing to OTLP');

mkdirSync(dataDir, { recursive: true });
// Before anything else: a second launcher on a running data directory would take the running
// one's servers for a crash's orphans and stop them.
let releaseDataDir: () => void = () => {};
try {
  releaseDataDir = claimDataDir(dataDir);
} catch (err) {
  if (!(err instanceof LauncherError)) throw err;
  process.stderr.write(`npm start: ${err.message}\n`);
  process.exit(1);
}
const baseUrl = process.env.STABLERAIL_BASE_URL ?? `http://127.0.0.1:${apiPort}`;
let config: StablerailConfig;
if (process.env.STABLERAIL_CONFIG) {
  config = loadConfigFile(process.env.STABLERAIL_CONFIG, { base_url: baseUrl });
} else {
  const wallet = loadOrCreateDevnetWallet(join(dataDir, 'devnet-wallet.json'));
  config = parseConfig(
    {
      base_url: baseUrl,
      rails: devnetRails({ mnemonic: wallet.mnemonic, evmRpcUrl: `http://127.0.0.1:${devnetPort}`, tronRpcUrl: `http://127.0.0.1:${devnetPort + 1}` }),
      // The devnet's signer is a keystore in the data directory; a demo's cooling-off is a minute, not a day.
      payouts: { signer: await ensureDevnetKeystore(dataDir, wallet.mnemonic), destination_cooling_off_s: DEVNET_COOLING_OFF_S },
      reconciliation_interval_s: DEVNET_RECONCILIATION_INTERVAL_S,
      reconciliation_grace_s: DEVNET_RECONCILIATION_GRACE_S,
    },
    { base_url: baseUrl },
  );
}

const readiness = { ready: false };
// Webhook secrets are sealed with it: keep the file (or set STABLERAIL_MASTER_KEY) or they cannot be opened.
const masterKey = loadOrCreateMasterKey(join(dataDir, 'master-key'));
// The devnet runs when no config file is given (a config file's rails are real nodes); its chain persists in the data directory.
const devnetWallet = process.env.STABLERAIL_CONFIG ? null : loadOrCreateDevnetWallet(join(dataDir, 'devnet-wallet.json'));
const stack = await startStack({
  dataDir, config, apiPort, temporalPort, logger, masterKey, readiness,
  ...(devnetWallet ? { devnet: { port: devnetPort, mnemonic: devnetWallet.mnemonic, stateFile: join(dataDir, 'devnet-state.json'), tronPort: devnetPort + 1, fund: [devnetTreasuryAddress(devnetWallet.mnemonic)], fundTron: [devnetTronTreasuryAddress(devnetWallet.mnemonic)], blockTimeS: devnetBlockTimeS(process.env.STABLERAIL_DEVNET_BLOCK_TIME) } } : {}),
}).catch((err: unknown) => {
  // Something the operator must change (a directory, a port): the message says what; a stack trace would bury it.
  if (!(err instanceof LauncherError)) throw err;
  process.stderr.write(`npm start: ${err.message}\n`);
  releaseDataDir();
  process.exit(1);
});

// First run: a sandbox merchant with an all-scopes key. dev.json keeps them for later runs.
const devJsonPath = join(dataDir, 'dev.json');
let dev = existsSync(devJsonPath) ? JSON.parse(readFileSync(devJsonPath, 'utf8')) : null;
if (!dev || !(await getMerchant(stack.pool, dev.merchant_id))) {
  const m = await createMerchant(stack.pool, config, 'Sandbox merchant', 'npm-start');
  const key = await createApiKey(stack.pool, m.id, 'sandbox', [...SCOPES], 'npm-start');
  dev = { merchant_id: m.id, secret_key: key.secret };
}
// First run on a fresh database: the first admin operator, whose personal token dev.json keeps.
// Later runs keep the token dev.json holds (only its hash is in the database).
const firstAdmin = await bootstrapFirstAdmin(stack.pool, process.env.STABLERAIL_ADMIN_EMAIL ?? 'admin@stablerail.local', 'npm-start');
const admin = firstAdmin
  ? { admin_token: firstAdmin.token.secret, admin_operator_id: firstAdmin.operator.id }
  : { admin_token: dev.admin_token ?? null, admin_operator_id: dev.admin_operator_id ?? null };
dev = {
  base_url: config.base_url,
  api_url: stack.apiUrl,
  ...admin,
  merchant_id: dev.merchant_id,
  secret_key: dev.secret_key,
  payer_private_key: stack.devnet?.payerPrivateKey ?? dev.payer_private_key ?? null,
  payer_address: stack.devnet?.payerAddress ?? dev.payer_address ?? null,
  temporal: { address: stack.temporalAddress, namespace: stack.namespace, ui_url: stack.temporalUiUrl },
  database_url: stack.databaseUrl,
  rails: config.rails.map((r) => ({ id: r.id, kind: r.kind, rpc_url: r.rpc_urls[0], token_contract: r.token_contract, decimals: r.decimals, confirmations_required: r.confirmations_required, devnet: r.devnet === true })),
};
writeFileSync(devJsonPath, JSON.stringify(dev, null, 2) + '\n', { mode: 0o600 });
readiness.ready = true;

// Secrets stay in dev.json (mode 0600): the terminal shows the handles, and the keys only on the
// first run of a local, sandbox-only data directory, never when the database or Temporal is remote.
const SECRET_FIELDS = ['admin_token', 'secret_key', 'payer_private_key', 'database_url'];
const localSandbox = !process.env.DATABASE_URL && !process.env.TEMPORAL_ADDRESS && config.rails.every((r) => !r.environments.includes('live'));
const showSecrets = localSandbox && firstAdmin !== null;
const printable = Object.fromEntries(Object.entries(dev).map(([k, v]) => [k, SECRET_FIELDS.includes(k) && !showSecrets ? `(in ${devJsonPath})` : v]));

const ui = stack.temporalUiUrl ? `${stack.temporalUiUrl}/namespaces/${stack.namespace}/workflows` : '(external Temporal)';
process.stdout.write(`
Stablerail is running.
  API          ${stack.apiUrl}        (ready: ${stack.apiUrl}/readyz, spec: ${stack.apiUrl}/openapi.json)
  Temporal UI  ${ui}
  dev.json     ${devJsonPath}

Try it (README "Try it" has the whole first minute):
  npx stablerail webhooks listen                       # in a second terminal: signed deliveries
  curl -s ${stack.apiUrl}/v1/payments -H "Authorization: Bearer $(node -p "require('${devJsonPath}').secret_key")" \\
       -H 'Idempotency-Key: order-1' -H 'Content-Type: application/json' -d '{"amount":"12.34","rail":"usdt-erc20","reference":"order-1"}'
  npx stablerail devnet pay pay_…                      # the id from the answer: pays it and follows it

${JSON.stringify(printable, null, 2)}
`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  await stack.stop();
  await stopTracing();
  releaseDataDir();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
