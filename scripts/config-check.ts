// `stablerail config check FILE`: validate a deployment config before any process reads it, print
// the effective config (defaults filled in) and the first deposit addresses each rail's xpub
// derives, so an operator can compare them with the receive addresses their wallet shows.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { ConfigError, parseConfig, type StablerailConfig } from '../activities/config.js';
import { deriveDepositAddress } from '../activities/deposit-address.js';

/** The example configs mark what an operator must fill in with this word. */
export const PLACEHOLDER_MARK = 'REPLACE';
export const ADDRESSES_SHOWN = 5;

/** JSON-pointer paths of every string still holding a placeholder. */
export function placeholders(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return value.includes(PLACEHOLDER_MARK) ? [path || '/'] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => placeholders(v, `${path}/${i}`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => placeholders(v, `${path}/${k}`));
  return [];
}

const ACCOUNT_PATH = { evm: "m/44'/60'/0'", tron: "m/44'/195'/0'" } as const;

export interface ConfigReport {
  config: StablerailConfig;
  addresses: Array<{ rail: string; network: string; path: string; address: string }>;
}

export function checkConfigText(text: string, file: string): ConfigReport {
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  const left = placeholders(raw);
  if (left.length) throw new ConfigError(`${file} still has placeholders to fill in at ${left.join(', ')}`);
  const config = parseConfig(raw, { base_url: 'http://127.0.0.1:8080' });
  const addresses = config.rails.flatMap((rail) =>
    Array.from({ length: ADDRESSES_SHOWN }, (_, i) => {
      try {
        return { rail: rail.id, network: rail.network, path: `${ACCOUNT_PATH[rail.kind]}/0/${i}`, address: deriveDepositAddress(rail, BigInt(i)) };
      } catch (err) {
        throw new ConfigError(`rail ${rail.id}: its xpub derives no address (${(err as Error).message})`);
      }
    }),
  );
  return { config, addresses };
}

export function runConfigCheck(file: string | undefined): number {
  if (!file) {
    console.error('usage: stablerail config check FILE');
    return 2;
  }
  let report: ConfigReport;
  try {
    report = checkConfigText(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if (!(err instanceof ConfigError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    console.error(`config check failed: ${(err as Error).message}`);
    return 1;
  }
  // The effective config: what every process will run with, defaults included. Nothing in it is secret
  // (signer tokens and passwords live in the environment), apart from a devnet keystore's password.
  const shown = JSON.parse(JSON.stringify(report.config)) as StablerailConfig;
  if (shown.payouts.signer && 'password' in shown.payouts.signer) shown.payouts.signer.password = '[redacted]';
  console.log(JSON.stringify({ valid: true, effective_config: shown }, null, 2));
  console.log('\nFirst deposit addresses (compare with the receive addresses your wallet derives from the same account):');
  for (const a of report.addresses) console.log(`  ${a.rail.padEnd(16)} ${a.path.padEnd(20)} ${a.address}`);
  return 0;
}
