// The TRON rail sender: builds TRC20 and TRX transfers on a full node's HTTP API (/wallet/…),
// broadcasts signed ones, and judges an outcome from the receipt and the token's Transfer log.
// The full node's base is the origin of each rail rpc_url (TronGrid serves /jsonrpc and /wallet
// on one host; so does a java-tron node with both enabled), tried in order with failover.
// Reading the chain stays the adapter's: outcome() takes blocks, the head and the Transfer logs
// from TronAdapter, so a payout's transfers carry the same log index and block hash the watcher
// stores. Why success is never read from contractResult, and the fee model: docs/tron-sending.md.
import { createHash } from 'node:crypto';
import { utils as tronUtils } from 'tronweb';
import type { RailConfig } from '../config.js';
import type { SignedTx, TronUnsignedTx } from '../signer/signer.js';
import { ChainDataError, RPC_TIMEOUT_MS, RpcUnavailableError, TRANSFER_TOPIC, type ChainTransfer } from './rail-adapter.js';
import { BroadcastRejectedError, type FeeEstimate, type RailSender, type TxOutcome } from './rail-sender.js';
import { TronAdapter } from './tron-adapter.js';
import { tronToHex20 } from './tron-address.js';

/**
 * The most TRX one token transfer may burn for energy: 100 TRX. A USDT transfer needs at most
 * 130,000 energy, 27.3 TRX at 210 sun; the cap leaves room for a higher energy price or USDT's
 * dynamic energy factor, and bounds what a broken contract call can ever cost the treasury.
 */
export const TRC20_TRANSFER_FEE_LIMIT_SUN = 100_000_000;
/**
 * How long a built transaction stays valid. A node's default is 60 s from its head, too short
 * for an external signer plus an activity retry; TRON allows up to 24 h. A transaction refused as
 * expired can never land later, so rebuilding after that refusal is safe.
 */
export const TRON_TX_EXPIRATION_MS = 10 * 60_000;
/** USDT-TRC20's energy per transfer when the recipient already holds the token, and when not. */
export const USDT_TRC20_TRANSFER_ENERGY = 65_000;
export const USDT_TRC20_TRANSFER_ENERGY_NEW_HOLDER = 130_000;
/** Chain parameters (energy and bandwidth prices) change only by committee proposal. */
const CHAIN_PARAMETERS_TTL_MS = 10 * 60_000;
/** java-tron adds this many bytes per contract to a transaction's size for its result. */
const MAX_RESULT_SIZE_IN_TX = 64;
const SIGNATURE_BYTES = 65;
const NODE_MESSAGE_CHARS_MAX = 240;
const TRANSFER_FUNCTION = 'transfer(address,uint256)';
const TRANSFER_SELECTOR = 'a9059cbb';
const BALANCE_OF_FUNCTION = 'balanceOf(address)';
const UINT256_MAX = (1n << 256n) - 1n;
const RAW_DATA_KEYS = new Set(['contract', 'ref_block_bytes', 'ref_block_hash', 'expiration', 'timestamp', 'fee_limit']);
/**
 * Broadcast answers that refuse the transaction for good. Every other code (SERVER_BUSY,
 * NO_CONNECTION, TAPOS_ERROR from a lagging node, OTHER_ERROR, …) is retried: the expiration
 * bounds those retries, since an expired transaction is then refused for good.
 */
const REJECTED_CODES = new Set(['SIGERROR', 'CONTRACT_VALIDATE_ERROR', 'CONTRACT_EXE_ERROR', 'BANDWITH_ERROR', 'TOO_BIG_TRANSACTION_ERROR', 'TRANSACTION_EXPIRATION_ERROR']);

type Json = Record<string, unknown>;

/** Bandwidth a signed transaction takes, as java-tron counts it: the serialized transaction plus its result bytes. */
export function tronBandwidthBytes(rawDataHex: string, signatures = 1): number {
  const raw = rawDataHex.length / 2;
  const varintLen = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4);
  return 1 + varintLen(raw) + raw + signatures * (2 + SIGNATURE_BYTES) + MAX_RESULT_SIZE_IN_TX;
}

const sha256Hex = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Node messages are hex-encoded UTF-8 on the broadcast path, plain text elsewhere. */
function nodeMessage(v: unknown): string {
  if (typeof v !== 'string') return '';
  const text = /^([0-9a-fA-F]{2})+$/.test(v) ? Buffer.from(v, 'hex').toString('utf8') : v;
  return text.slice(0, NODE_MESSAGE_CHARS_MAX);
}
function safeNonNegative(v: unknown, what: string, absentAs?: number): number {
  if (v === undefined && absentAs !== undefined) return absentAs;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ChainDataError(`malformed ${what}: ${JSON.stringify(v)?.slice(0, 80)}`);
  return v;
}
/** transfer(address,uint256)'s argument words for a recipient's 20 address bytes, by tronweb's ABI encoder. */
export function trc20TransferParameter(to20: string, amountMinor: bigint): string {
  if (amountMinor <= 0n || amountMinor > UINT256_MAX) throw new RangeError(`token amount out of range: ${amountMinor}`);
  return tronUtils.abi.encodeParams(['address', 'uint256'], ['41' + to20, amountMinor]).slice(2);
}
/** balanceOf(address)'s argument word for a holder's 20 address bytes, by tronweb's ABI encoder. */
export function balanceOfParameter(holder20: string): string {
  return tronUtils.abi.encodeParams(['address'], ['41' + holder20]).slice(2);
}
function parseTxHash(txHash: string): string {
  const id = txHash.replace(/^0x/, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(id)) throw new ChainDataError(`not a TRON transaction id: ${txHash}`);
  return id;
}

export class TronSender implements RailSender {
  readonly nativeAsset = 'TRX';
  readonly nativeDecimals = 6;
  private readonly nodes: string[];
  private current = 0;
  private readonly adapter: TronAdapter;
  private readonly ownsAdapter: boolean;
  private readonly token41: string;
  private readonly token20: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private params: { energyFeeSun: number; bandwidthFeeSun: number; at_ms: number } | null = null;

  constructor(
    readonly rail: RailConfig,
    o: {
      /** The reading side, shared with the watcher's if the caller has one. */
      adapter?: TronAdapter;
      timeoutMs?: number;
      /** E.g. TronGrid's `TRON-PRO-API-KEY`. */
      headers?: Record<string, string>;
    } = {},
  ) {
    if (rail.kind !== 'tron') throw new Error(`rail ${rail.id} is not a TRON rail`);
    this.nodes = [...new Set(rail.rpc_urls.map((u) => new URL(u).origin))];
    this.adapter = o.adapter ?? new TronAdapter(rail);
    this.ownsAdapter = o.adapter === undefined;
    this.token20 = tronToHex20(rail.token_contract);
    this.token41 = '41' + this.token20;
    this.timeoutMs = o.timeoutMs ?? RPC_TIMEOUT_MS;
    this.headers = o.headers ?? {};
  }

  /** TRON has no nonces: a transaction is unique by its contents, reference block and expiration. */
  async nextNonce(_address: string): Promise<number> {
    return 0;
  }

  async headHeight(): Promise<number> {
    return this.adapter.headHeight();
  }

  async minedNonce(_address: string): Promise<number> {
    return 0;
  }

  async knows(txHash: string): Promise<boolean> {
    return this.onChain(parseTxHash(txHash));
  }

  /**
   * TRON cannot replace a transaction: it can only wait until the old one's expiration has
   * passed on chain (then it can never be included) and build a fresh one. Until then, null.
   */
  async buildReplacement(o: { raw: string; from: string; to: string; asset: 'token' | 'native'; amountMinor: bigint }): Promise<TronUnsignedTx | null> {
    const old = JSON.parse(o.raw) as { raw_data?: { expiration?: unknown } };
    const expiration = safeNonNegative(old.raw_data?.expiration, 'recorded expiration');
    const head = await this.post('/wallet/getnowblock', {});
    const headTs = safeNonNegative((head.block_header as { raw_data?: { timestamp?: unknown } } | undefined)?.raw_data?.timestamp, 'head timestamp');
    if (headTs <= expiration) return null;
    return o.asset === 'token' ? this.buildTokenTransfer(o) : this.buildNativeTransfer(o);
  }

  async buildTokenTransfer(o: { from: string; to: string; amountMinor: bigint }): Promise<TronUnsignedTx> {
    if (o.amountMinor <= 0n || o.amountMinor > UINT256_MAX) throw new RangeError(`token amount out of range: ${o.amountMinor}`);
    const owner41 = '41' + tronToHex20(o.from);
    const parameter = trc20TransferParameter(tronToHex20(o.to), o.amountMinor);
    const res = await this.post('/wallet/triggersmartcontract', {
      owner_address: owner41,
      contract_address: this.token41,
      function_selector: TRANSFER_FUNCTION,
      parameter,
      fee_limit: TRC20_TRANSFER_FEE_LIMIT_SUN,
      call_value: 0,
      visible: false,
    });
    const result = isObject(res.result) ? res.result : {};
    if (result.result !== true || !isObject(res.transaction)) {
      throw new BroadcastRejectedError(`the node refused to build the transfer: ${String(result.code ?? res.Error ?? 'no transaction')} ${nodeMessage(result.message)}`.trim());
    }
    return this.finish(res.transaction, 'TriggerSmartContract', { data: TRANSFER_SELECTOR + parameter, owner_address: owner41, contract_address: this.token41 }, TRC20_TRANSFER_FEE_LIMIT_SUN);
  }

  async buildNativeTransfer(o: { from: string; to: string; amountMinor: bigint }): Promise<TronUnsignedTx> {
    if (o.amountMinor <= 0n || o.amountMinor > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`TRX amount out of range: ${o.amountMinor} sun`);
    const owner41 = '41' + tronToHex20(o.from);
    const to41 = '41' + tronToHex20(o.to);
    const amount = Number(o.amountMinor);
    const res = await this.post('/wallet/createtransaction', { owner_address: owner41, to_address: to41, amount, visible: false });
    // The node validates a TRX transfer when building it (no owner account, balance too low).
    if (res.Error !== undefined || !isObject(res.raw_data)) throw new BroadcastRejectedError(`the node refused to build the TRX transfer: ${nodeMessage(res.Error) || 'no transaction'}`);
    return this.finish(res, 'TransferContract', { amount, owner_address: owner41, to_address: to41 });
  }

  /**
   * Check that the node built exactly what was asked (a node is not trusted with what the
   * treasury signs), then move the expiration out to TRON_TX_EXPIRATION_MS and re-encode.
   */
  private finish(tx: Json, type: string, value: Json, feeLimitSun?: number): TronUnsignedTx {
    const raw = tx.raw_data;
    if (!isObject(raw) || !Array.isArray(raw.contract) || raw.contract.length !== 1) throw new ChainDataError('built transaction: raw_data must carry one contract');
    for (const k of Object.keys(raw)) if (!RAW_DATA_KEYS.has(k)) throw new ChainDataError(`built transaction: unexpected raw_data.${k}`);
    const c = raw.contract[0] as Json;
    const param = isObject(c.parameter) ? c.parameter : {};
    const got = isObject(param.value) ? param.value : {};
    if (c.type !== type || param.type_url !== `type.googleapis.com/protocol.${type}`) throw new ChainDataError(`built transaction is a ${String(c.type)}, not a ${type}`);
    const gotKeys = Object.keys(got).filter((k) => !(k === 'call_value' && got[k] === 0));
    const same = gotKeys.length === Object.keys(value).length && gotKeys.every((k) => (typeof got[k] === 'string' ? (got[k] as string).toLowerCase() : got[k]) === value[k]);
    if (!same) throw new ChainDataError(`built transaction does not say what was asked: ${JSON.stringify(got).slice(0, 200)}`);
    if ((raw.fee_limit ?? undefined) !== feeLimitSun) throw new ChainDataError(`built transaction carries fee_limit ${String(raw.fee_limit)}, not ${String(feeLimitSun)}`);
    if (typeof raw.ref_block_bytes !== 'string' || typeof raw.ref_block_hash !== 'string') throw new ChainDataError('built transaction has no reference block');
    const timestamp = safeNonNegative(raw.timestamp, 'transaction timestamp');
    // The node's own encoding must agree with its JSON: otherwise the signed bytes say something else.
    if (!tronUtils.transaction.txCheck({ ...tx, visible: false })) throw new ChainDataError('built transaction: raw_data_hex or txID does not match raw_data');

    // Counted from the node's timestamp, not this host's clock, so clock skew cannot shorten it.
    const raw_data = { ...raw, expiration: timestamp + TRON_TX_EXPIRATION_MS };
    const raw_data_hex = tronUtils.transaction.txPbToRawDataHex(tronUtils.transaction.txJsonToPb({ raw_data, visible: false })).toLowerCase();
    return { kind: 'tron', txID: sha256Hex(raw_data_hex), raw_data_hex, raw_data };
  }

  async broadcast(signed: SignedTx): Promise<void> {
    if (signed.kind !== 'tron') throw new BroadcastRejectedError(`not a TRON transaction: ${signed.kind}`);
    let tx: Json;
    try {
      tx = JSON.parse(signed.raw);
    } catch {
      throw new BroadcastRejectedError('the signed TRON transaction is not JSON');
    }
    const txID = typeof tx.txID === 'string' ? tx.txID.toLowerCase() : '';
    if (`0x${txID}` !== signed.txHash.toLowerCase()) throw new BroadcastRejectedError(`signed transaction ${txID} is not ${signed.txHash}`);
    if (!Array.isArray(tx.signature) || tx.signature.length === 0) throw new BroadcastRejectedError('the TRON transaction carries no signature');
    const raw = isObject(tx.raw_data) ? tx.raw_data : {};
    const value = (raw.contract as Array<{ parameter?: { value?: Json } }> | undefined)?.[0]?.parameter?.value;
    // A node reads addresses by `visible` (false: 41-hex); a signer may leave it out.
    const visible = typeof tx.visible === 'boolean' ? tx.visible : typeof value?.owner_address === 'string' && value.owner_address.startsWith('T');
    const res = await this.post('/wallet/broadcasttransaction', { txID, raw_data: tx.raw_data, raw_data_hex: tx.raw_data_hex, signature: tx.signature, visible });
    if (res.result === true) return;
    const code = typeof res.code === 'string' ? res.code : res.Error !== undefined ? 'Error' : 'UNKNOWN';
    const why = `${code}: ${nodeMessage(res.message ?? res.Error)}`;
    // Sending one the node already has is not an error.
    if (code === 'DUP_TRANSACTION_ERROR') return;
    if (code !== 'Error' && !REJECTED_CODES.has(code)) throw new RpcUnavailableError(`broadcast of ${txID} not accepted yet: ${why}`);
    // A rebroadcast of an included transaction can be refused as expired, not as a duplicate.
    if (await this.onChain(txID)) return;
    throw new BroadcastRejectedError(`broadcast of ${txID} refused: ${why}`);
  }

  private async onChain(txID: string): Promise<boolean> {
    const tx = await this.post('/wallet/gettransactionbyid', { value: txID });
    return typeof tx.txID === 'string' && tx.txID.toLowerCase() === txID;
  }

  async outcome(txHash: string): Promise<TxOutcome | null> {
    const txID = parseTxHash(txHash);
    const info = await this.post('/wallet/gettransactioninfobyid', { value: txID });
    if (info.id === undefined) return null; // {} while the chain does not show it
    if (typeof info.id !== 'string' || info.id.toLowerCase() !== txID) throw new ChainDataError(`asked for ${txID}, node answered ${String(info.id)}`);
    const height = safeNonNegative(info.blockNumber, 'blockNumber');
    const fee = safeNonNegative(info.fee, 'fee', 0);
    const block = await this.adapter.block(height);
    if (!block) return null; // the JSON-RPC side has not caught up with the HTTP side yet
    const head = await this.adapter.headHeight();
    if (head < height) throw new ChainDataError(`head ${head} is below the transaction's block ${height}`);

    // The transfers as the watcher reads them (same log index, same block hash), cross-checked
    // against the transaction's own logs so the two views of one transaction cannot disagree.
    const hash = `0x${txID}`;
    const transfers: ChainTransfer[] = (await this.adapter.transfers(height, height)).filter((t) => t.txHash === hash);
    const infoLogs = Array.isArray(info.log) ? (info.log as Json[]) : [];
    const tokenLogs = infoLogs.filter((l) => String(l.address).toLowerCase().replace(/^(0x|41)/, '') === this.token20 && Array.isArray(l.topics) && `0x${String(l.topics[0]).toLowerCase().replace(/^0x/, '')}` === TRANSFER_TOPIC);
    if (tokenLogs.length !== transfers.length) throw new ChainDataError(`${txID}: the receipt shows ${tokenLogs.length} token Transfer logs, eth_getLogs ${transfers.length}`);
    if (transfers.some((t) => t.blockHash !== block.hash)) throw new ChainDataError(`${txID}: block ${height} changed while it was read`);

    const receipt = isObject(info.receipt) ? info.receipt : {};
    let executed: boolean;
    if (info.contract_address !== undefined || receipt.result !== undefined) {
      // A contract call: the receipt and the token's Transfer log, never contractResult (USDT answers false on success).
      executed = receipt.result === 'SUCCESS' && transfers.length > 0;
    } else {
      // A TRX transfer's receipt has no result: it executes or is never included. Check the kind.
      const tx = await this.post('/wallet/gettransactionbyid', { value: txID });
      const type = ((tx.raw_data as Json | undefined)?.contract as Json[] | undefined)?.[0]?.type;
      executed = type === 'TransferContract' && (tx.ret as Json[] | undefined)?.[0]?.contractRet === 'SUCCESS';
    }
    return { txHash: hash, blockHeight: height, blockHash: block.hash, executed, feeMinor: String(fee), confirmations: head - height + 1, transfers };
  }

  async tokenBalance(address: string): Promise<bigint> {
    const holder20 = tronToHex20(address);
    const res = await this.post('/wallet/triggerconstantcontract', {
      owner_address: '41' + holder20,
      contract_address: this.token41,
      function_selector: BALANCE_OF_FUNCTION,
      parameter: balanceOfParameter(holder20),
      visible: false,
    });
    const w = Array.isArray(res.constant_result) ? res.constant_result[0] : undefined;
    if (!isObject(res.result) || res.result.result !== true || typeof w !== 'string' || !/^[0-9a-fA-F]{64}$/.test(w)) {
      throw new ChainDataError(`balanceOf answered ${JSON.stringify(res).slice(0, 160)}`);
    }
    return BigInt('0x' + w);
  }

  async nativeBalance(address: string): Promise<bigint> {
    const res = await this.post('/wallet/getaccount', { address: '41' + tronToHex20(address), visible: false });
    // {} for an account that does not exist (never received TRX); zero fields are left out.
    return BigInt(safeNonNegative(res.balance, 'account balance', 0));
  }

  /**
   * What a token transfer would burn at most: its energy at the chain's energy price (capped by
   * the fee limit) plus its bandwidth at the chain's byte price, counting no free bandwidth
   * (another transaction may spend it first).
   */
  async estimateTokenTransferFee(o: { from: string; to: string; amountMinor: bigint }): Promise<FeeEstimate> {
    const [params, energy, built, freeBandwidth] = await Promise.all([this.chainParameters(), this.transferEnergy(o), this.buildTokenTransfer(o), this.freeBandwidth(o.from)]);
    const bandwidthBytes = tronBandwidthBytes(built.raw_data_hex);
    const energyFee = BigInt(energy.energy) * BigInt(params.energyFeeSun);
    const feeLimit = BigInt(TRC20_TRANSFER_FEE_LIMIT_SUN);
    const bandwidthFee = BigInt(bandwidthBytes) * BigInt(params.bandwidthFeeSun);
    const total = (energyFee < feeLimit ? energyFee : feeLimit) + bandwidthFee;
    return {
      nativeAsset: this.nativeAsset,
      nativeDecimals: this.nativeDecimals,
      feeMinor: total.toString(),
      detail: {
        energy: String(energy.energy),
        energy_source: energy.source,
        energy_price_sun: String(params.energyFeeSun),
        energy_fee_sun: energyFee.toString(),
        fee_limit_sun: feeLimit.toString(),
        within_fee_limit: String(energyFee <= feeLimit),
        bandwidth_bytes: String(bandwidthBytes),
        bandwidth_price_sun: String(params.bandwidthFeeSun),
        bandwidth_fee_sun: bandwidthFee.toString(),
        free_bandwidth_available_bytes: String(freeBandwidth),
        total_sun: total.toString(),
      },
    };
  }

  /** The node's simulation of the transfer; USDT's figures when it reverts (no balance there yet). */
  private async transferEnergy(o: { from: string; to: string; amountMinor: bigint }): Promise<{ energy: number; source: string }> {
    const to20 = tronToHex20(o.to);
    const res = await this.post('/wallet/triggerconstantcontract', {
      owner_address: '41' + tronToHex20(o.from),
      contract_address: this.token41,
      function_selector: TRANSFER_FUNCTION,
      parameter: trc20TransferParameter(to20, o.amountMinor),
      visible: false,
    });
    const result = isObject(res.result) ? res.result : {};
    const ret = ((res.transaction as Json | undefined)?.ret as Json[] | undefined)?.[0]?.ret;
    const used = res.energy_used;
    if (result.result === true && result.message === undefined && ret !== 'FAILED' && typeof used === 'number' && Number.isSafeInteger(used) && used > 0) {
      return { energy: used, source: 'simulation' };
    }
    const holds = (await this.tokenBalance(o.to)) > 0n;
    return { energy: holds ? USDT_TRC20_TRANSFER_ENERGY : USDT_TRC20_TRANSFER_ENERGY_NEW_HOLDER, source: holds ? 'usdt_recipient_holds' : 'usdt_recipient_new' };
  }

  private async freeBandwidth(address: string): Promise<number> {
    const res = await this.post('/wallet/getaccountresource', { address: '41' + tronToHex20(address), visible: false });
    return Math.max(0, safeNonNegative(res.freeNetLimit, 'freeNetLimit', 0) - safeNonNegative(res.freeNetUsed, 'freeNetUsed', 0));
  }

  private async chainParameters(): Promise<{ energyFeeSun: number; bandwidthFeeSun: number }> {
    if (this.params && Date.now() - this.params.at_ms < CHAIN_PARAMETERS_TTL_MS) return this.params;
    const res = await this.post('/wallet/getchainparameters', {});
    const list = Array.isArray(res.chainParameter) ? (res.chainParameter as Json[]) : [];
    const get = (key: string) => {
      const v = list.find((p) => p.key === key)?.value;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new ChainDataError(`chain parameter ${key} missing or malformed`);
      return v;
    };
    this.params = { energyFeeSun: get('getEnergyFee'), bandwidthFeeSun: get('getTransactionFee'), at_ms: Date.now() };
    return this.params;
  }

  /**
   * POST to the full node, failing over across the rail's nodes: a node that is down, times out,
   * answers an HTTP error or something that is not a JSON object counts as failed.
   */
  private async post(path: string, body: Json): Promise<Json> {
    const errors: string[] = [];
    for (let attempt = 0; attempt < this.nodes.length; attempt++) {
      const i = (this.current + attempt) % this.nodes.length;
      try {
        const res = await fetch(this.nodes[i] + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.headers },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`HTTP ${res.status} ${text.slice(0, 120)}`);
        const parsed: unknown = JSON.parse(text);
        if (!isObject(parsed)) throw new Error(`not a JSON object: ${text.slice(0, 120)}`);
        this.current = i;
        return parsed;
      } catch (err) {
        errors.push(`${this.nodes[i]}: ${(err as Error).message?.slice(0, 160)}`);
      }
    }
    this.current = (this.current + 1) % this.nodes.length;
    throw new RpcUnavailableError(`${path} failed on every node: ${errors.join(' | ')}`);
  }

  close(): void {
    if (this.ownsAdapter) this.adapter.close();
  }
}

