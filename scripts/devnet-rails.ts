// Built-in rails for the local devnet. The devnet's wallet (its mnemonic) lives in the data
// directory as the devnet's custody, never the service's: the service only gets the xpubs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { HDNodeWallet, Mnemonic, randomBytes } from 'ethers';
import type { RailConfig } from '../activities/config.js';

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
    },
  ];
}
