// Built-in rails for the local devnet. The devnet's wallet (its mnemonic) lives in the data
// directory as the devnet's custody, never the service's: the service only gets the xpubs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeKeystore, type SignerSpec } from '../activities/signer/index.js';
import { KEYSTORE_SCRYPT_N_DEVNET } from '../activities/signer/keystore-signer.js';
import { HDNodeWallet, Mnemonic, randomBytes } from 'ethers';
import type { RailConfig } from '../activities/config.js';
import { tronFromHex20 } from '../activities/chain/tron-address.js';

/** The treasury (hot wallet) key payouts leave from, as the signer derives it (activities/signer/keys.ts). */
export const TREASURY_EVM_PATH = "m/44'/60'/2'/0/0";
/** Guards nothing of value: the devnet's coins. A keystore with real funds takes its password from STABLERAIL_SIGNER_PASSWORD. */
export const DEVNET_KEYSTORE_PASSWORD = 'devnet-only-not-a-secret';

/** A demo approves a destination and pays out within minutes, not after a day. */
export const DEVNET_COOLING_OFF_S = 60;

/** Seconds between blocks the devnet (and the TRON stand-in) make on their own under `npm start`. */
export const DEVNET_BLOCK_TIME_S_DEFAULT = 2;
/**
 * On the devnet a paid payment is recognized seconds after finality: reconciliation runs every
 * few seconds and judges payments idle for a couple of seconds. Production keeps 60 s and 30 s.
 */
export const DEVNET_RECONCILIATION_INTERVAL_S = 5;
export const DEVNET_RECONCILIATION_GRACE_S = 2;

/** STABLERAIL_DEVNET_BLOCK_TIME: seconds (whole), `0` or `off` for blocks only on demand. */
export function devnetBlockTimeS(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEVNET_BLOCK_TIME_S_DEFAULT;
  const v = raw.trim().toLowerCase();
  if (v === 'off') return 0;
  if (!/^[0-9]{1,5}$/.test(v)) throw new Error(`STABLERAIL_DEVNET_BLOCK_TIME must be whole seconds, 0 or off (got ${JSON.stringify(raw)})`);
  return Number(v);
}

export const EVM_ACCOUNT_PATH = "m/44'/60'/0'";
export const TRON_ACCOUNT_PATH = "m/44'/195'/0'";
/** anvil's first account deploys the token at nonce 0, so its address is known in advance. */
export const DEVNET_TOKEN_ADDRESS = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
export const TRON_STANDIN_USDT = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';

export interface DevnetWallet {
  mnemonic: string;
}

export function loadOrCreateDevnetWallet(path: string): DevnetWallet {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8'));
  const wallet = { mnemonic: Mnemonic.fromEntropy(randomBytes(16)).phrase };
  writeFileSync(path, JSON.stringify(wallet, null, 2), { mode: 0o600 });
  return wallet;
}

export function accountXpub(mnemonic: string, path: string): string {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(mnemonic), path).neuter().extendedKey;
}

export function devnetRails(o: { mnemonic: string; evmRpcUrl: string; tronRpcUrl: string }): RailConfig[] {
  return [
    {
      id: 'usdt-erc20',
      asset: 'USDT',
      network: 'devnet-evm',
      kind: 'evm',
      rpc_urls: [o.evmRpcUrl],
      token_contract: DEVNET_TOKEN_ADDRESS,
      decimals: 6,
      confirmations_required: 3,
      finality_confirmations: 6,
      payment_window_s: 900,
      underpay_tolerance_minor: '0',
      xpub: accountXpub(o.mnemonic, EVM_ACCOUNT_PATH),
      environments: ['sandbox'],
      chain_id: 31337,
      // Stuck after a few blocks so a dropped devnet send is replaced within seconds.
      stuck_send: { after_blocks: 4, after_s: 60, fee_bump_pct: 25 },
      devnet: true,
    },
    {
      id: 'usdt-trc20',
      asset: 'USDT',
      network: 'tron-standin',
      kind: 'tron',
      rpc_urls: [o.tronRpcUrl],
      token_contract: TRON_STANDIN_USDT,
      decimals: 6,
      confirmations_required: 3,
      finality_confirmations: 19,
      payment_window_s: 900,
      underpay_tolerance_minor: '0',
      xpub: accountXpub(o.mnemonic, TRON_ACCOUNT_PATH),
      environments: ['sandbox'],
      devnet: true,
    },
  ];
}

/** The TRON treasury: the same key path under coin type 195, in TRON's address form. */
export function devnetTronTreasuryAddress(mnemonic: string): string {
  return tronFromHex20(HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(mnemonic), "m/44'/195'/2'/0/0").address);
}

export function devnetTreasuryAddress(mnemonic: string): string {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(mnemonic), TREASURY_EVM_PATH).address;
}

/**
 * The sandbox signer: a keystore file holding the devnet wallet's seed, written once into the
 * data directory. The service reads it only through the signer interface.
 */
export async function ensureDevnetKeystore(dataDir: string, mnemonic: string): Promise<SignerSpec> {
  const file = join(dataDir, 'signer-keystore.json');
  if (!existsSync(file)) await writeKeystore(file, mnemonic, DEVNET_KEYSTORE_PASSWORD, { scryptN: KEYSTORE_SCRYPT_N_DEVNET });
  return { kind: 'keystore', keystore_file: file, password: DEVNET_KEYSTORE_PASSWORD };
}
