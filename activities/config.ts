// Stablerail's configuration: rails and service settings from the file named by
// STABLERAIL_CONFIG (JSON or YAML), validated before anything starts. Only configured rails exist.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import { STABLERAIL_NAMESPACE } from '../temporal-config/namespace.js';
import { signerSpecSchema } from './signer/spec.js';
import { RECOGNITION_GATES, type RecognitionGate } from '../workflows/rules/recognition-gates.js';

export interface RailConfig {
  id: string;
  asset: string;
  network: string;
  kind: 'evm' | 'tron';
  rpc_urls: string[];
  token_contract: string;
  decimals: number;
  confirmations_required: number;
  finality_confirmations: number;
  payment_window_s: number;
  underpay_tolerance_minor: string;
  /** Watch-only extended public key at the account level (m/44'/60'/0' or m/44'/195'/0'). */
  xpub: string;
  /** Environments this rail may serve; devnet rails are sandbox only. */
  environments: Array<'sandbox' | 'live'>;
  chain_id?: number;
  /** TRON only: the solidity HTTP API base (…/walletsolidity/getnowblock). */
  solidity_url?: string;
  /** What must hold before pending moves to available; all three unless finance configures fewer. */
  recognition_gates?: RecognitionGate[];
  /** The asset network fees are paid in (ETH, TRX); by kind when omitted. */
  native_asset?: string;
  /** When a broadcast payout counts as stuck and how it is replaced (README, "Stuck sends"); defaults by kind. */
  stuck_send?: Partial<StuckSendPolicy>;
  /**
   * The first block the watcher reads when this rail has no cursor yet; without it, a block mined
   * before the rail's oldest payment (or the head when there is none). Ignored once a cursor exists.
   */
  start_height?: number;
  /**
   * A rail of the local devnet or the TRON stand-in (sandbox only): `stablerail devnet pay` and
   * the "Simulate payment" control may pay its payments from the devnet's funded payer.
   */
  devnet?: boolean;
  /** A block explorer's page of one transaction, `{tx_hash}` standing for the id (e.g. https://etherscan.io/tx/{tx_hash}). */
  explorer_tx_url?: string;
}

/**
 * A broadcast transaction not mined after `after_blocks` new blocks or `after_s` seconds
 * (whichever first) is stuck: on EVM it is replaced at the same nonce with both fees raised
 * by `fee_bump_pct` percent at least (nodes refuse a replacement under +10%); on TRON it is
 * rebuilt and re-signed once its expiration has passed.
 */
export interface StuckSendPolicy {
  after_blocks: number;
  after_s: number;
  fee_bump_pct: number;
}

export function stuckSendPolicy(rail: RailConfig): StuckSendPolicy {
  const byKind: StuckSendPolicy = rail.kind === 'evm' ? { after_blocks: 12, after_s: 180, fee_bump_pct: 25 } : { after_blocks: 200, after_s: 660, fee_bump_pct: 0 };
  return { ...byKind, ...rail.stuck_send };
}

export interface StablerailConfig {
  base_url: string;
  rails: RailConfig[];
  /** How long a closed payment keeps listening for late money before its workflow ends. */
  monitor_after_close_s: number;
  /** per_s/burst: each API key; address_*: each client address, spent before authentication by public calls and failed credentials. */
  rate_limit: { per_s: number; burst: number; address_per_s: number; address_burst: number };
  temporal: { namespace: string; search_attributes: boolean };
  /** How often the Temporal Schedule runs reconciliation per environment; 0 turns it off. */
  reconciliation_interval_s: number;
  /** How old a payment's last change must be before a scheduled run judges it (work in flight is not a break). */
  reconciliation_grace_s: number;
  /** Scheduled runs and their reports older than this are pruned by the scheduled runs; 0 keeps them forever. */
  reconciliation_retention_days: number;
  webhooks: WebhookConfig;
  payouts: PayoutConfig;
  /**
   * Platform fees, posted at recognition from the merchant's available balance to the
   * platform's `fees` (revenue) account. The first entry whose merchant and rail match (absent
   * = any) applies; none: no fee.
   */
  platform_fees: PlatformFeeRule[];
}

export interface PlatformFeeRule {
  merchant_id?: string;
  rail?: string;
  /** Percent of each recognized transfer, a decimal string ("0.5" = 0.5%). */
  percent?: string;
  /** A fixed amount per recognized transfer, in the rail's asset ("0.10"). */
  fixed?: string;
}

export interface PayoutConfig {
  /** A newly approved destination becomes usable only after this delay (a durable timer). */
  destination_cooling_off_s: number;
  /** Default per-merchant threshold, in the asset's units: above it two operators approve. */
  dual_approval_above: string;
  /** A payout nobody approves within this window is canceled and its hold released. */
  approval_window_s: number;
  /** Where signatures come from (docs/signer.md); without one, payouts and sweeps are refused. */
  signer: Record<string, unknown> | null;
}

export interface WebhookConfig {
  /** Sandbox endpoints may be loopback, private and plain HTTP (a local receiver); an operator can turn it off. */
  sandbox_allow_private_urls: boolean;
  /** One attempt's whole HTTP exchange, connect to last byte. */
  attempt_timeout_ms: number;
}

const railSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'asset', 'network', 'kind', 'rpc_urls', 'token_contract', 'decimals', 'confirmations_required', 'finality_confirmations', 'payment_window_s', 'underpay_tolerance_minor', 'xpub', 'environments'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,40}$' },
    asset: { type: 'string', pattern: '^[A-Z0-9]{2,12}$' },
    network: { type: 'string', minLength: 1 },
    kind: { enum: ['evm', 'tron'] },
    rpc_urls: { type: 'array', minItems: 1, maxItems: 8, items: { type: 'string', minLength: 1 } },
    token_contract: { type: 'string', minLength: 1 },
    decimals: { type: 'integer', minimum: 0, maximum: 30 },
    confirmations_required: { type: 'integer', minimum: 1, maximum: 1000 },
    finality_confirmations: { type: 'integer', minimum: 1, maximum: 10000 },
    payment_window_s: { type: 'integer', minimum: 10, maximum: 604800 },
    underpay_tolerance_minor: { type: 'string', pattern: '^[0-9]{1,40}$' },
    xpub: { type: 'string', pattern: '^[xt]pub[1-9A-HJ-NP-Za-km-z]{100,112}$' },
    environments: { type: 'array', minItems: 1, items: { enum: ['sandbox', 'live'] } },
    chain_id: { type: 'integer' },
    solidity_url: { type: 'string' },
    recognition_gates: { type: 'array', uniqueItems: true, items: { enum: RECOGNITION_GATES } },
    native_asset: { type: 'string', pattern: '^[A-Z0-9]{2,12}$' },
    stuck_send: {
      type: 'object',
      additionalProperties: false,
      properties: {
        after_blocks: { type: 'integer', minimum: 1, maximum: 100000 },
        after_s: { type: 'integer', minimum: 1, maximum: 86400 },
        fee_bump_pct: { type: 'integer', minimum: 0, maximum: 1000 },
      },
    },
    start_height: { type: 'integer', minimum: 0 },
    devnet: { type: 'boolean' },
    explorer_tx_url: { type: 'string', pattern: '^https?://[^\\s]*\\{tx_hash\\}' },
  },
} as const;

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rails'],
  properties: {
    platform_fees: {
      type: 'array',
      maxItems: 10000,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          merchant_id: { type: 'string' },
          rail: { type: 'string' },
          percent: { type: 'string', pattern: '^[0-9]{1,3}(\\.[0-9]{1,6})?$' },
          fixed: { type: 'string', pattern: '^[0-9]{1,20}(\\.[0-9]{1,18})?$' },
        },
      },
    },
    base_url: { type: 'string' },
    rails: { type: 'array', minItems: 1, maxItems: 64, items: railSchema },
    monitor_after_close_s: { type: 'integer', minimum: 0, maximum: 2592000 },
    rate_limit: {
      type: 'object',
      additionalProperties: false,
      properties: {
        per_s: { type: 'number', exclusiveMinimum: 0 },
        burst: { type: 'integer', minimum: 1 },
        address_per_s: { type: 'number', exclusiveMinimum: 0 },
        address_burst: { type: 'integer', minimum: 1 },
      },
    },
    reconciliation_interval_s: { type: 'integer', minimum: 0, maximum: 86400 },
    reconciliation_grace_s: { type: 'integer', minimum: 0, maximum: 3600 },
    reconciliation_retention_days: { type: 'integer', minimum: 0, maximum: 3650 },
    temporal: {
      type: 'object',
      additionalProperties: false,
      properties: { namespace: { type: 'string' }, search_attributes: { type: 'boolean' } },
    },
    payouts: {
      type: 'object',
      additionalProperties: false,
      properties: {
        destination_cooling_off_s: { type: 'integer', minimum: 0, maximum: 2592000 },
        dual_approval_above: { type: 'string', pattern: '^[0-9]{1,30}(\\.[0-9]{1,30})?$' },
        approval_window_s: { type: 'integer', minimum: 60, maximum: 2592000 },
        signer: { anyOf: [{ type: 'null' }, signerSpecSchema] },
      },
    },
    webhooks: {
      type: 'object',
      additionalProperties: false,
      properties: {
        sandbox_allow_private_urls: { type: 'boolean' },
        attempt_timeout_ms: { type: 'integer', minimum: 100, maximum: 15000 },
      },
    },
  },
} as const;

/** A posting written a moment ago is work in flight, not a break, for this long. */
export const RECONCILIATION_GRACE_S_DEFAULT = 30;
/** A month of scheduled reports: about 2.2 million report rows, some 360 MB, at 50 open breaks and a 60 s schedule. */
export const RECONCILIATION_RETENTION_DAYS_DEFAULT = 30;

/** The issue's contract: 15 s per attempt, and never more. */
export const WEBHOOK_ATTEMPT_TIMEOUT_MS_DEFAULT = 15_000;
/** Per client address, before authentication: room for a payer page's polling and a few mistyped keys, not for guessing. */
export const ADDRESS_RATE_DEFAULT = { per_s: 20, burst: 100 } as const;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(configSchema);

export function parseConfig(raw: unknown, defaults: { base_url: string }): StablerailConfig {
  if (!validate(raw)) {
    throw new ConfigError(`invalid Stablerail config: ${validate.errors!.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
  }
  const r = raw as Partial<StablerailConfig> & { rails: RailConfig[] };
  const ids = new Set<string>();
  for (const rail of r.rails) {
    if (ids.has(rail.id)) throw new ConfigError(`rail ${rail.id} is configured twice`);
    ids.add(rail.id);
    if (rail.finality_confirmations < rail.confirmations_required) {
      throw new ConfigError(`rail ${rail.id}: finality_confirmations must be at least confirmations_required`);
    }
    // Its payer's key sits in a local file: a devnet rail never takes real money.
    if (rail.devnet && rail.environments.includes('live')) throw new ConfigError(`rail ${rail.id}: a devnet rail is sandbox only`);
  }
  return {
    base_url: (r.base_url ?? defaults.base_url).replace(/\/$/, ''),
    rails: r.rails,
    monitor_after_close_s: r.monitor_after_close_s ?? 86_400,
    rate_limit: {
      per_s: r.rate_limit?.per_s ?? 100,
      burst: r.rate_limit?.burst ?? 200,
      address_per_s: r.rate_limit?.address_per_s ?? ADDRESS_RATE_DEFAULT.per_s,
      address_burst: r.rate_limit?.address_burst ?? ADDRESS_RATE_DEFAULT.burst,
    },
    temporal: { namespace: r.temporal?.namespace ?? STABLERAIL_NAMESPACE, search_attributes: r.temporal?.search_attributes ?? true },
    reconciliation_interval_s: r.reconciliation_interval_s ?? 60,
    reconciliation_grace_s: r.reconciliation_grace_s ?? RECONCILIATION_GRACE_S_DEFAULT,
    reconciliation_retention_days: r.reconciliation_retention_days ?? RECONCILIATION_RETENTION_DAYS_DEFAULT,
    webhooks: {
      sandbox_allow_private_urls: r.webhooks?.sandbox_allow_private_urls ?? true,
      attempt_timeout_ms: r.webhooks?.attempt_timeout_ms ?? WEBHOOK_ATTEMPT_TIMEOUT_MS_DEFAULT,
    },
    payouts: {
      destination_cooling_off_s: r.payouts?.destination_cooling_off_s ?? 86_400,
      dual_approval_above: r.payouts?.dual_approval_above ?? '1000',
      approval_window_s: r.payouts?.approval_window_s ?? 7 * 86_400,
      signer: r.payouts?.signer ?? null,
    },
    platform_fees: r.platform_fees ?? [],
  };
}

export function loadConfigFile(path: string, defaults: { base_url: string }): StablerailConfig {
  const text = readFileSync(path, 'utf8');
  const raw = path.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  return parseConfig(raw, defaults);
}

export function railById(config: StablerailConfig, id: string): RailConfig | undefined {
  return config.rails.find((r) => r.id === id);
}

/**
 * The scale of an asset's minor units, from the rails that carry it. A ledger account can
 * outlive its rail's config; it is then shown at USDT's 6 places rather than refused.
 */
export function decimalsOfAsset(config: StablerailConfig, asset: string): number {
  return config.rails.find((r) => r.asset === asset)?.decimals ?? NATIVE_DECIMALS[asset] ?? 6;
}

/** The native assets network fees are posted in: wei and sun. */
const NATIVE_DECIMALS: Readonly<Record<string, number>> = { ETH: 18, TRX: 6 };

export function nativeAssetOf(rail: RailConfig): string {
  return rail.native_asset ?? (rail.kind === 'tron' ? 'TRX' : 'ETH');
}

/** The explorer page of a transaction, where the rail's config names one; TRON ids are shown without 0x. */
export function explorerTxUrl(rail: RailConfig, txHash: string): string | null {
  if (!rail.explorer_tx_url) return null;
  const id = rail.kind === 'tron' ? txHash.replace(/^0x/, '') : txHash;
  return rail.explorer_tx_url.replace('{tx_hash}', encodeURIComponent(id));
}
