// `npm start`: the whole product on embedded defaults. First run creates the data directory,
// a sandbox merchant and its key, and writes dev.json; later runs reuse all of it.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBase62 } from '../activities/ids.js';
import { loadConfigFile, parseConfig, type StablerailConfig } from '../activities/config.js';
import { createApiKey, createMerchant, getMerchant, SCOPES } from '../activities/merchant.js';
import { createLogger } from '../api/logger.js';
import { DEVNET_COOLING_OFF_S, devnetRails, devnetTreasuryAddress, devnetTronTreasuryAddress, ensureDevnetKeystore, loadOrCreateDevnetWallet } from './devnet-rails.js';
import { startStack } from './stack.js';
import { loadOrCreateMasterKey } from '../activities/webhooks/secret-box.js';

const dataDir = resolve(process.env.STABLERAIL_DATA_DIR ?? '.stablerail');
const apiPort = Number(process.env.PORT ?? 8080);
const devnetPort = Number(process.env.STABLERAIL_DEVNET_PORT ?? 8545);
const temporalPort = Number(process.env.STABLERAIL_TEMPORAL_PORT ?? 7233);
const logger = createLogger();

mkdirSync(dataDir, { recursive: true });
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
    },
    { base_url: baseUrl },
  );
}

const adminTokenFile = join(dataDir, 'admin-token');
const adminToken = process.env.STABLERAIL_ADMIN_TOKEN ?? (existsSync(adminTokenFile) ? readFileSync(adminTokenFile, 'utf8').trim() : `adm_${randomBase62(40)}`);
if (!process.env.STABLERAIL_ADMIN_TOKEN) writeFileSync(adminTokenFile, adminToken, { mode: 0o600 });

const readiness = { ready: false };
// Webhook secrets are sealed with it: keep the file (or set STABLERAIL_MASTER_KEY) or they cannot be opened.
const masterKey = loadOrCreateMasterKey(join(dataDir, 'master-key'));
// The devnet runs unless a config file names real rails; its chain persists in the data directory.
const devnetWallet = process.env.STABLERAIL_CONFIG ? null : loadOrCreateDevnetWallet(join(dataDir, 'devnet-wallet.json'));
const stack = await startStack({
  dataDir, config, adminToken, apiPort, temporalPort, logger, masterKey, readiness,
  ...(devnetWallet ? { devnet: { port: devnetPort, mnemonic: devnetWallet.mnemonic, stateFile: join(dataDir, 'devnet-state.json'), tronPort: devnetPort + 1, fund: [devnetTreasuryAddress(devnetWallet.mnemonic)], fundTron: [devnetTronTreasuryAddress(devnetWallet.mnemonic)] } } : {}),
});

// First run: a sandbox merchant with an all-scopes key. dev.json keeps them for later runs.
const devJsonPath = join(dataDir, 'dev.json');
let dev = existsSync(devJsonPath) ? JSON.parse(readFileSync(devJsonPath, 'utf8')) : null;
if (!dev || !(await getMerchant(stack.pool, dev.merchant_id))) {
  const m = await createMerchant(stack.pool, config, 'Sandbox merchant', 'npm-start');
  const key = await createApiKey(stack.pool, m.id, 'sandbox', [...SCOPES], 'npm-start');
  dev = { merchant_id: m.id, secret_key: key.secret };
}
dev = {
  base_url: config.base_url,
  api_url: stack.apiUrl,
  admin_token: adminToken,
  merchant_id: dev.merchant_id,
  secret_key: dev.secret_key,
  payer_private_key: stack.devnet?.payerPrivateKey ?? dev.payer_private_key ?? null,
  payer_address: stack.devnet?.payerAddress ?? dev.payer_address ?? null,
  temporal: { address: stack.temporalAddress, namespace: stack.namespace, ui_url: stack.temporalUiUrl },
  database_url: stack.databaseUrl,
  rails: config.rails.map((r) => ({ id: r.id, kind: r.kind, rpc_url: r.rpc_urls[0], token_contract: r.token_contract, decimals: r.decimals, confirmations_required: r.confirmations_required })),
};
writeFileSync(devJsonPath, JSON.stringify(dev, null, 2) + '\n', { mode: 0o600 });
readiness.ready = true;

const ui = stack.temporalUiUrl ? `${stack.temporalUiUrl}/namespaces/${stack.namespace}/workflows` : '(external Temporal)';
process.stdout.write(`
Stablerail is running.
  API          ${stack.apiUrl}        (ready: ${stack.apiUrl}/readyz, spec: ${stack.apiUrl}/openapi.json)
  Temporal UI  ${ui}
  dev.json     ${devJsonPath}

Try it:
  curl -s ${stack.apiUrl}/v1/payments -H "Authorization: Bearer $(node -p "require('${devJsonPath}').secret_key")" \\
       -H 'Content-Type: application/json' -H 'Idempotency-Key: order-1001' \\
       -d '{"amount":"125.50","rail":"usdt-erc20","reference":"order-1001"}'

${JSON.stringify(dev, null, 2)}
`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
