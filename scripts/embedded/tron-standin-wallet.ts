// STAND-IN, NOT A TRON NODE. The sending half of the TRON stand-in (tron-standin.ts owns the
// blocks, the server and the reading endpoints): TRX accounts and TRC20 balances, and the subset
// of a full node's HTTP API (/wallet/…) a sender needs, in real TRON shapes: build a transaction
// (triggersmartcontract, createtransaction), broadcast a signed one, read it back
// (gettransactionbyid, gettransactioninfobyid), and read accounts, resources, chain parameters
// and constant calls. What it models and what it does not is in docs/tron-sending.md.
//
// raw_data_hex is the real protobuf encoding of raw_data (tronweb's own encoder), so txID =
// sha256(raw_data_hex) and the bandwidth a transaction takes are what a real node would answer.
// Every contract address behaves as USDT-TRC20 does: transfer(address,uint256) and
// balanceOf(address), no contract code. One broadcast is one new block, executed at once.
import { createHash } from 'node:crypto';
import { SigningKey, computeAddress } from 'ethers';
import { TronWeb, utils as tronUtils } from 'tronweb';

/** The fee figures the stand-in charges, as /wallet/getchainparameters answers them (mainnet-like). */
export const STANDIN_CHAIN_PARAMETERS = {
  /** Sun burned per bandwidth byte a transaction takes beyond the free allowance. */
  getTransactionFee: 1_000,
  /** Sun burned per unit of energy (mainnet moved it 420 → 210 → 100 by proposals; 210 here). */
  getEnergyFee: 210,
  /** Free bandwidth bytes per activated account, recovering linearly over 24 h. */
  getFreeNetLimit: 600,
  /** Sun burned instead of bandwidth by a TRX transfer that creates its recipient's account. */
  getCreateAccountFee: 100_000,
  /** Sun burned by that transfer for the account itself, on top. */
  getCreateNewAccountFeeInSystemContract: 1_000_000,
  /** The highest fee_limit a transaction may name (15,000 TRX). */
  getMaxFeeLimit: 15_000_000_000,
} as const;
/** USDT-TRC20 on mainnet: a transfer to an address already holding the token writes one slot. */
export const STANDIN_TRC20_TRANSFER_ENERGY = 65_000;
/** …and to an address holding none it creates one (a zero → non-zero SSTORE). */
export const STANDIN_TRC20_TRANSFER_ENERGY_NEW_HOLDER = 130_000;
/** What a reverted transfer (balance too low, unknown function) consumes before the revert. */
export const STANDIN_TRC20_REVERT_ENERGY = 12_000;
/** balanceOf is a read: what triggerconstantcontract reports for it. */
export const STANDIN_TRC20_BALANCE_OF_ENERGY = 1_000;
/** java-tron counts this many bytes per contract for the result a transaction will carry. */
const MAX_RESULT_SIZE_IN_TX = 64;
const FREE_NET_WINDOW_MS = 86_400_000;
/** As a real node: a built transaction expires 60 s after it was built, and at most 24 h out. */
const TX_EXPIRATION_DEFAULT_MS = 60_000;
const TX_EXPIRATION_MAX_MS = 86_400_000;
/** ref_block_bytes are the low 16 bits of a height: a reference older than this is unknowable. */
const TAPOS_WINDOW_BLOCKS = 65_536;
const SIGNATURE_HEX_LEN = 130;
const TRANSFER_SELECTOR = 'a9059cbb';
const BALANCE_OF_SELECTOR = '70a08231';
const TRANSFER_TOPIC_HEX = 'ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const UINT256_MAX = (1n << 256n) - 1n;
const TYPE_URL = 'type.googleapis.com/protocol.';

/** A log as the stand-in's JSON-RPC answers it; the wallet writes them, the chain seals them into blocks. */
export interface StandinLog {
  address: string; // 0x + 20-byte hex
  topics: string[];
  data: string;
  transactionHash: string;
  logIndex: number;
}

export interface StandinAccount {
  /** Sun, decimal string. */
  balance_sun: string;
  create_time: number;
  /** Free bandwidth used as of latest_consume_free_time. */
  free_net_used: number;
  latest_consume_free_time: number;
}

type RawData = Record<string, unknown> & { contract: Array<{ type: string; parameter: { type_url: string; value: Record<string, unknown> } }> };
interface StoredTx {
  txID: string;
  raw_data: RawData;
  raw_data_hex: string;
  signature: string[];
}
export interface StandinTxRecord {
  block: number;
  contractRet: 'SUCCESS' | 'REVERT' | 'OUT_OF_ENERGY';
  /** Addresses in hex form (visible: false), as stored on chain. */
  tx: StoredTx;
  /** gettransactioninfobyid's answer, zero fields left out as a real node leaves them. */
  info: Record<string, unknown>;
}

/** Everything beyond the blocks, persisted with them. Keys: 41-prefixed hex (accounts), 20-byte hex (tokens, holders). */
export interface WalletState {
  accounts: Record<string, StandinAccount>;
  tokens: Record<string, Record<string, string>>;
  txs: Record<string, StandinTxRecord>;
}

/** What the wallet needs of the chain: its clock, its blocks, and a way to add one. */
export interface StandinChain {
  now(): number;
  head(): { number: number; hash: string; timestamp: number };
  blockAt(height: number): { number: number; hash: string } | undefined;
  seal(logs: StandinLog[], txIDs: string[]): { number: number; hash: string; timestamp: number };
  save(): void;
  /**
   * TEST CONTROL, not node behaviour: true drops this broadcast after it passed every check.
   * It is answered as accepted (as a node answers a transaction it took into its pool) and then
   * never included, as a transaction a real network lost. Absent: nothing is dropped.
   */
  dropsBroadcast?(txID: string): boolean;
}

/** A request a real node would refuse before looking at state: answered as `{Error}`. */
class WalletInputError extends Error {}

const sha256Hex = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
const utf8Hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const word = (hex: string) => hex.padStart(64, '0');
const isVisible = (v: unknown) => v === true || v === 'true';
/** proto3's JSON leaves zero and empty fields out; so does the stand-in. */
const nonZero = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0 && v !== undefined && v !== '' && v !== 0n));

/** An address in the request's form (base58check when visible, 41-prefixed hex otherwise) → 41-prefixed hex. */
function parseAddress(v: unknown, visible: boolean, what: string): string {
  if (typeof v !== 'string' || v === '') throw new WalletInputError(`${what} isn't set.`);
  if (visible) {
    if (!v.startsWith('T') || !TronWeb.isAddress(v)) throw new WalletInputError(`Invalid ${what}: ${v} is not a base58check address (visible: true)`);
    return TronWeb.address.toHex(v).toLowerCase();
  }
  if (!/^41[0-9a-fA-F]{40}$/.test(v)) throw new WalletInputError(`Invalid ${what}: ${v} is not a 41-prefixed hex address (visible: false)`);
  return v.toLowerCase();
}
const renderAddress = (hex41: string, visible: boolean) => (visible ? TronWeb.address.fromHex(hex41) : hex41);

const ADDRESS_FIELDS = ['owner_address', 'to_address', 'contract_address'] as const;
function mapContractAddresses(raw: RawData, f: (v: unknown, field: string) => string): RawData {
  const c = raw.contract[0]!;
  const value = { ...c.parameter.value };
  for (const k of ADDRESS_FIELDS) if (k in value) value[k] = f(value[k], k);
  return { ...raw, contract: [{ ...c, parameter: { ...c.parameter, value } }] };
}

/** The real protobuf bytes of raw_data, and the txID over them. */
export function encodeRawData(raw_data: unknown): { raw_data_hex: string; txID: string } {
  const pb = tronUtils.transaction.txJsonToPb({ raw_data, visible: false });
  const raw_data_hex = tronUtils.transaction.txPbToRawDataHex(pb).toLowerCase();
  return { raw_data_hex, txID: sha256Hex(raw_data_hex) };
}

/** Bandwidth a signed transaction takes, as java-tron counts it: the serialized transaction plus 64 bytes per contract result. */
export function bandwidthBytes(rawDataHexLength: number, signatures: number): number {
  const raw = rawDataHexLength / 2;
  const varintLen = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4);
  return 1 + varintLen(raw) + raw + signatures * (1 + 1 + 65) + MAX_RESULT_SIZE_IN_TX;
}

type BroadcastAnswer = { result: true; txid: string } | { result: false; code: string; txid?: string; message: string };
const refuse = (code: string, message: string, txid?: string): BroadcastAnswer => ({ result: false, code, ...(txid ? { txid } : {}), message: utf8Hex(message) });

export function createStandinWallet(chain: StandinChain, state: WalletState) {
  const P = STANDIN_CHAIN_PARAMETERS;

  const account = (hex41: string) => state.accounts[hex41];
  const trxBalance = (hex41: string) => BigInt(account(hex41)?.balance_sun ?? '0');
  const tokenBalance = (token20: string, holder20: string) => BigInt(state.tokens[token20]?.[holder20] ?? '0');
  const setTokenBalance = (token20: string, holder20: string, v: bigint) => {
    const t = (state.tokens[token20] ??= {});
    if (v === 0n) delete t[holder20];
    else t[holder20] = v.toString();
  };
  const creditTrx = (hex41: string, sun: bigint) => {
    const a = (state.accounts[hex41] ??= { balance_sun: '0', create_time: chain.now(), free_net_used: 0, latest_consume_free_time: 0 });
    a.balance_sun = (BigInt(a.balance_sun) + sun).toString();
  };
  const debitTrx = (hex41: string, sun: bigint) => {
    const a = state.accounts[hex41]!;
    const next = BigInt(a.balance_sun) - sun;
    if (next < 0n) throw new Error(`stand-in invariant: ${hex41} would go below zero`);
    a.balance_sun = next.toString();
  };
  const freeNetUsedNow = (a: StandinAccount | undefined, now: number) => {
    if (!a || a.free_net_used === 0) return 0;
    const elapsed = Math.max(0, now - a.latest_consume_free_time);
    return elapsed >= FREE_NET_WINDOW_MS ? 0 : Math.ceil((a.free_net_used * (FREE_NET_WINDOW_MS - elapsed)) / FREE_NET_WINDOW_MS);
  };

  /** How a transaction's bandwidth is paid: free allowance, or burned TRX; null when neither can. */
  function planBandwidth(owner: string, bytes: number, createsAccount: boolean): { net_usage: number; net_fee: bigint } | null {
    const balance = trxBalance(owner);
    // A transfer that creates an account pays a flat fee instead; the free allowance cannot.
    if (createsAccount) return balance >= BigInt(P.getCreateAccountFee) ? { net_usage: 0, net_fee: BigInt(P.getCreateAccountFee) } : null;
    if (freeNetUsedNow(account(owner), chain.now()) + bytes <= P.getFreeNetLimit) return { net_usage: bytes, net_fee: 0n };
    const fee = BigInt(bytes) * BigInt(P.getTransactionFee);
    return balance >= fee ? { net_usage: 0, net_fee: fee } : null;
  }
  function applyBandwidth(owner: string, plan: { net_usage: number; net_fee: bigint }) {
    const a = state.accounts[owner]!;
    if (plan.net_usage > 0) {
      const now = chain.now();
      a.free_net_used = freeNetUsedNow(a, now) + plan.net_usage;
      a.latest_consume_free_time = now;
    }
    if (plan.net_fee > 0n) debitTrx(owner, plan.net_fee);
  }

  /** What a TRC20 call would do, without doing it: the energy it needs and its result. */
  function simulateTrc20(token20: string, owner20: string, data: string): { energy: number; status: 'SUCCESS' | 'REVERT'; transfer?: { to20: string; amount: bigint } } {
    const d = data.toLowerCase();
    if (d.startsWith(TRANSFER_SELECTOR) && d.length === 8 + 128 && /^0{24}[0-9a-f]{40}$/.test(d.slice(8, 72))) {
      const to20 = d.slice(32, 72);
      const amount = BigInt('0x' + d.slice(72));
      if (tokenBalance(token20, owner20) < amount) return { energy: STANDIN_TRC20_REVERT_ENERGY, status: 'REVERT' };
      const energy = tokenBalance(token20, to20) > 0n ? STANDIN_TRC20_TRANSFER_ENERGY : STANDIN_TRC20_TRANSFER_ENERGY_NEW_HOLDER;
      return { energy, status: 'SUCCESS', transfer: { to20, amount } };
    }
    return { energy: STANDIN_TRC20_REVERT_ENERGY, status: 'REVERT' };
  }

  function buildTransaction(type: 'TriggerSmartContract' | 'TransferContract', value: Record<string, unknown>, visible: boolean, feeLimitSun?: number) {
    const head = chain.head();
    const now = chain.now();
    const raw_data: RawData = {
      contract: [{ parameter: { value, type_url: TYPE_URL + type }, type }],
      // TaPoS: the low two bytes of the head's height and bytes 8..16 of its id.
      ref_block_bytes: (head.number & 0xffff).toString(16).padStart(4, '0'),
      ref_block_hash: head.hash.slice(2 + 16, 2 + 32),
      expiration: now + TX_EXPIRATION_DEFAULT_MS,
      ...(feeLimitSun ? { fee_limit: feeLimitSun } : {}),
      timestamp: now,
    };
    const { raw_data_hex, txID } = encodeRawData(raw_data);
    return { visible, txID, raw_data: visible ? mapContractAddresses(raw_data, (v) => renderAddress(v as string, true)) : raw_data, raw_data_hex };
  }

  const safeSun = (v: unknown, what: string): number => {
    const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new WalletInputError(`${what} must be a non-negative integer (sun)`);
    return n;
  };

  function triggerSmartContract(body: Record<string, unknown>) {
    const visible = isVisible(body.visible);
    const owner = parseAddress(body.owner_address, visible, 'owner_address');
    const contract = parseAddress(body.contract_address, visible, 'contract_address');
    const selector = body.function_selector;
    const parameter = body.parameter ?? '';
    if (typeof selector !== 'string' || selector === '') throw new WalletInputError("function_selector isn't set.");
    if (typeof parameter !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(parameter)) throw new WalletInputError('parameter must be hex');
    const callValue = safeSun(body.call_value ?? 0, 'call_value');
    const feeLimit = safeSun(body.fee_limit ?? 0, 'fee_limit');
    const data = TronWeb.sha3(selector, false).slice(0, 8) + parameter.toLowerCase();
    const value = { data, owner_address: owner, contract_address: contract, ...(callValue > 0 ? { call_value: callValue } : {}) };
    return { result: { result: true }, transaction: buildTransaction('TriggerSmartContract', value, visible, feeLimit) };
  }

  function triggerConstantContract(body: Record<string, unknown>) {
    const visible = isVisible(body.visible);
    const owner = parseAddress(body.owner_address, visible, 'owner_address');
    const contract = parseAddress(body.contract_address, visible, 'contract_address');
    const selector = body.function_selector;
    const parameter = typeof body.parameter === 'string' ? body.parameter.toLowerCase() : '';
    if (typeof selector !== 'string' || selector === '') throw new WalletInputError("function_selector isn't set.");
    const data = TronWeb.sha3(selector, false).slice(0, 8) + parameter;
    const token20 = contract.slice(2);
    const transaction = buildTransaction('TriggerSmartContract', { data, owner_address: owner, contract_address: contract }, visible);
    if (data.startsWith(BALANCE_OF_SELECTOR) && /^0{24}[0-9a-f]{40}$/.test(parameter)) {
      const balance = tokenBalance(token20, parameter.slice(24));
      return { result: { result: true }, energy_used: STANDIN_TRC20_BALANCE_OF_ENERGY, constant_result: [word(balance.toString(16))], transaction };
    }
    const sim = simulateTrc20(token20, owner.slice(2), data);
    if (sim.status === 'REVERT') {
      // A revert keeps the success shape; only the message and the transaction's ret say so.
      return { result: { result: true, message: utf8Hex('REVERT opcode executed') }, energy_used: sim.energy, constant_result: [''], transaction: { ...transaction, ret: [{ ret: 'FAILED' }] } };
    }
    // USDT-TRC20's transfer declares `returns (bool)` and returns nothing: the word reads false.
    return { result: { result: true }, energy_used: sim.energy, constant_result: [word('0')], transaction: { ...transaction, ret: [{}] } };
  }

  function createTransaction(body: Record<string, unknown>) {
    const visible = isVisible(body.visible);
    const owner = parseAddress(body.owner_address, visible, 'owner_address');
    const to = parseAddress(body.to_address, visible, 'to_address');
    const amount = safeSun(body.amount, 'amount');
    // A real node validates a TransferContract when building it, with these messages.
    if (amount <= 0) throw new WalletInputError('Contract validate error : Amount must be greater than 0.');
    if (owner === to) throw new WalletInputError('Contract validate error : Cannot transfer TRX to yourself.');
    if (!account(owner)) throw new WalletInputError('Contract validate error : Validate TransferContract error, no OwnerAccount.');
    if (trxBalance(owner) < BigInt(amount)) throw new WalletInputError('Contract validate error : Validate TransferContract error, balance is not sufficient.');
    return buildTransaction('TransferContract', { amount, owner_address: owner, to_address: to }, visible);
  }

  function broadcast(body: Record<string, unknown>): BroadcastAnswer {
    const visible = isVisible(body.visible);
    const { txID, raw_data: rawIn, raw_data_hex, signature } = body as { txID?: unknown; raw_data?: unknown; raw_data_hex?: unknown; signature?: unknown };
    if (typeof txID !== 'string' || !/^[0-9a-fA-F]{64}$/.test(txID)) throw new WalletInputError('txID must be 32 bytes of hex');
    if (typeof raw_data_hex !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(raw_data_hex)) throw new WalletInputError('raw_data_hex must be hex');
    const r = rawIn as RawData | undefined;
    if (!r || typeof r !== 'object' || !Array.isArray(r.contract) || r.contract.length !== 1 || typeof r.contract[0]?.parameter?.value !== 'object') {
      throw new WalletInputError('raw_data must carry exactly one contract');
    }
    const id = txID.toLowerCase();
    const raw = mapContractAddresses(r, (v, field) => parseAddress(v, visible, field));
    const type = raw.contract[0]!.type;
    if (type !== 'TriggerSmartContract' && type !== 'TransferContract') return refuse('CONTRACT_VALIDATE_ERROR', `the stand-in does not model ${String(type)}`, id);

    // A real node hashes the raw_data it was sent; a signature over any other id fails.
    let encoded: { raw_data_hex: string; txID: string };
    try {
      encoded = encodeRawData(raw);
    } catch (err) {
      throw new WalletInputError(`raw_data does not encode: ${(err as Error).message}`);
    }
    if (encoded.txID !== id || encoded.raw_data_hex !== raw_data_hex.toLowerCase()) {
      return refuse('SIGERROR', 'Validate signature error: txID is not sha256 of the raw_data sent (or raw_data_hex does not encode it)', id);
    }
    if (state.txs[id]) return refuse('DUP_TRANSACTION_ERROR', 'Dup transaction.', id);

    const now = chain.now();
    const expiration = raw.expiration;
    if (typeof expiration !== 'number' || expiration <= now || expiration > now + TX_EXPIRATION_MAX_MS) {
      return refuse('TRANSACTION_EXPIRATION_ERROR', `Transaction expired: expiration ${String(expiration)} is not in (${now}, ${now + TX_EXPIRATION_MAX_MS}]`, id);
    }
    if (!taposHolds(String(raw.ref_block_bytes), String(raw.ref_block_hash))) {
      return refuse('TAPOS_ERROR', `Tapos check error: no recent block matches ref_block_bytes ${String(raw.ref_block_bytes)} and ref_block_hash ${String(raw.ref_block_hash)}`, id);
    }
    const value = raw.contract[0]!.parameter.value;
    const owner = value.owner_address as string;
    if (!Array.isArray(signature) || signature.length !== 1 || typeof signature[0] !== 'string' || !/^(0x)?[0-9a-fA-F]{130}$/.test(signature[0])) {
      return refuse('SIGERROR', 'Validate signature error: exactly one 65-byte signature (r||s||v) is expected; multi-signature permissions are not modeled', id);
    }
    const signer = recoverSigner(id, signature[0].replace(/^0x/, ''));
    if (signer !== owner) {
      return refuse('SIGERROR', `Validate signature error: ${signature[0].slice(0, 16)}… is signed by ${signer ?? 'nobody'} but it is not contained of permission (owner ${owner}).`, id);
    }
    if (!account(owner)) return refuse('CONTRACT_VALIDATE_ERROR', `Validate ${type} error, no OwnerAccount.`, id);

    // Test control: accepted, then lost (never included, no balance moved, no fee burned).
    if (chain.dropsBroadcast?.(id)) return { result: true, txid: id };
    const bytes = bandwidthBytes(raw_data_hex.length, 1);
    const stored: StoredTx = { txID: id, raw_data: raw, raw_data_hex: raw_data_hex.toLowerCase(), signature: [signature[0].replace(/^0x/, '').toLowerCase()] };
    return type === 'TransferContract' ? executeTransferContract(stored, value, bytes) : executeTrigger(stored, value, bytes);
  }

  /** TaPoS as a real node checks it: the one recent block with those low 16 height bits must carry that hash. */
  function taposHolds(refBytes: string, refHash: string): boolean {
    if (!/^[0-9a-f]{4}$/.test(refBytes) || !/^[0-9a-f]{16}$/.test(refHash)) return false;
    const head = chain.head().number;
    const b = chain.blockAt(head - ((head - Number.parseInt(refBytes, 16)) & (TAPOS_WINDOW_BLOCKS - 1)));
    return b !== undefined && b.hash.slice(2 + 16, 2 + 32) === refHash;
  }

  function executeTransferContract(tx: StoredTx, value: Record<string, unknown>, bytes: number): BroadcastAnswer {
    const owner = value.owner_address as string;
    const to = value.to_address as string;
    const amount = value.amount;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) return refuse('CONTRACT_VALIDATE_ERROR', 'Amount must be greater than 0.', tx.txID);
    if (owner === to) return refuse('CONTRACT_VALIDATE_ERROR', 'Cannot transfer TRX to yourself.', tx.txID);
    const createsAccount = !account(to);
    const net = planBandwidth(owner, bytes, createsAccount);
    if (!net) return refuse('BANDWITH_ERROR', 'Account resource insufficient error.', tx.txID);
    const createFee = createsAccount ? BigInt(P.getCreateNewAccountFeeInSystemContract) : 0n;
    if (trxBalance(owner) - net.net_fee < BigInt(amount) + createFee) {
      return refuse('CONTRACT_VALIDATE_ERROR', 'Validate TransferContract error, balance is not sufficient.', tx.txID);
    }
    applyBandwidth(owner, net);
    if (createFee > 0n) debitTrx(owner, createFee);
    debitTrx(owner, BigInt(amount));
    creditTrx(to, BigInt(amount));
    const b = chain.seal([], [tx.txID]);
    const fee = net.net_fee + createFee;
    // A TransferContract's receipt carries no result: it either executes or is never included.
    const info = nonZero({ id: tx.txID, fee: Number(fee), blockNumber: b.number, blockTimeStamp: b.timestamp, contractResult: [''], receipt: nonZero({ net_usage: net.net_usage, net_fee: Number(net.net_fee) }) });
    state.txs[tx.txID] = { block: b.number, contractRet: 'SUCCESS', tx, info };
    chain.save();
    return { result: true, txid: tx.txID };
  }

  function executeTrigger(tx: StoredTx, value: Record<string, unknown>, bytes: number): BroadcastAnswer {
    const owner = value.owner_address as string;
    const contract = value.contract_address as string;
    if (value.call_value !== undefined && value.call_value !== 0) return refuse('CONTRACT_VALIDATE_ERROR', 'the stand-in does not model call_value', tx.txID);
    const feeLimit = tx.raw_data.fee_limit ?? 0;
    if (typeof feeLimit !== 'number' || !Number.isSafeInteger(feeLimit) || feeLimit < 0 || feeLimit > P.getMaxFeeLimit) {
      return refuse('CONTRACT_VALIDATE_ERROR', `feeLimit must be >= 0 and <= ${P.getMaxFeeLimit}`, tx.txID);
    }
    const net = planBandwidth(owner, bytes, false);
    if (!net) return refuse('BANDWITH_ERROR', 'Account resource insufficient error.', tx.txID);

    // Energy is bought by burning TRX, up to fee_limit and what the balance still holds (no staking modeled).
    const price = BigInt(P.getEnergyFee);
    const spendable = trxBalance(owner) - net.net_fee;
    const energyLimit = Number((spendable < BigInt(feeLimit) ? spendable : BigInt(feeLimit)) / price);
    const token20 = contract.slice(2);
    const sim = simulateTrc20(token20, owner.slice(2), String(value.data ?? ''));
    const outOfEnergy = sim.energy > energyLimit;
    const energyUsed = outOfEnergy ? energyLimit : sim.energy;
    const energyFee = BigInt(energyUsed) * price;
    const contractRet: StandinTxRecord['contractRet'] = outOfEnergy ? 'OUT_OF_ENERGY' : sim.status;

    applyBandwidth(owner, net);
    if (energyFee > 0n) debitTrx(owner, energyFee);
    const logs: StandinLog[] = [];
    const infoLogs: Array<{ address: string; topics: string[]; data: string }> = [];
    if (contractRet === 'SUCCESS' && sim.transfer) {
      const { to20, amount } = sim.transfer;
      const from20 = owner.slice(2);
      setTokenBalance(token20, from20, tokenBalance(token20, from20) - amount);
      setTokenBalance(token20, to20, tokenBalance(token20, to20) + amount);
      const topics = [TRANSFER_TOPIC_HEX, word(from20), word(to20)];
      const data = word(amount.toString(16));
      infoLogs.push({ address: token20, topics, data });
      logs.push({ address: '0x' + token20, topics: topics.map((t) => '0x' + t), data: '0x' + data, transactionHash: '0x' + tx.txID, logIndex: 0 });
    }
    const b = chain.seal(logs, [tx.txID]);
    const fee = net.net_fee + energyFee;
    const info: Record<string, unknown> = {
      ...nonZero({ id: tx.txID, fee: Number(fee), blockNumber: b.number, blockTimeStamp: b.timestamp }),
      // USDT's quirk: a successful transfer returns an all-zero word ("false"); judge by receipt and log.
      contractResult: [contractRet === 'SUCCESS' ? word('0') : ''],
      contract_address: contract,
      receipt: { ...nonZero({ energy_usage_total: energyUsed, energy_fee: Number(energyFee), net_usage: net.net_usage, net_fee: Number(net.net_fee) }), result: contractRet },
      ...(infoLogs.length > 0 ? { log: infoLogs } : {}),
      ...(contractRet === 'SUCCESS'
        ? {}
        : { result: 'FAILED', resMessage: utf8Hex(contractRet === 'REVERT' ? 'REVERT opcode executed' : `Not enough energy: needed ${sim.energy}, limit ${energyLimit}`) }),
    };
    state.txs[tx.txID] = { block: b.number, contractRet, tx, info };
    chain.save();
    return { result: true, txid: tx.txID };
  }

  const txIdOf = (body: Record<string, unknown>) => {
    const v = body.value;
    if (typeof v !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/.test(v)) throw new WalletInputError('value must be a 32-byte transaction id');
    return v.replace(/^0x/, '').toLowerCase();
  };

  function getTransactionById(body: Record<string, unknown>) {
    const rec = state.txs[txIdOf(body)];
    if (!rec) return {};
    const visible = isVisible(body.visible);
    const raw_data = visible ? mapContractAddresses(rec.tx.raw_data, (v) => renderAddress(v as string, true)) : rec.tx.raw_data;
    return { ret: [{ contractRet: rec.contractRet }], signature: rec.tx.signature, txID: rec.tx.txID, raw_data, raw_data_hex: rec.tx.raw_data_hex };
  }

  function getTransactionInfoById(body: Record<string, unknown>) {
    return state.txs[txIdOf(body)]?.info ?? {};
  }

  function getAccount(body: Record<string, unknown>) {
    const visible = isVisible(body.visible);
    const addr = parseAddress(body.address, visible, 'address');
    const a = account(addr);
    if (!a) return {};
    return nonZero({
      address: renderAddress(addr, visible),
      balance: Number(BigInt(a.balance_sun)),
      create_time: a.create_time,
      free_net_usage: freeNetUsedNow(a, chain.now()),
      latest_consume_free_time: a.latest_consume_free_time,
    });
  }

  function getAccountResource(body: Record<string, unknown>) {
    const visible = isVisible(body.visible);
    const a = account(parseAddress(body.address, visible, 'address'));
    if (!a) return {};
    // Staking (NetLimit, EnergyLimit) is not modeled: an account's only resource is the free bandwidth.
    return nonZero({ freeNetUsed: freeNetUsedNow(a, chain.now()), freeNetLimit: P.getFreeNetLimit });
  }

  function getChainParameters() {
    return { chainParameter: Object.entries(P).map(([key, value]) => ({ key, value })) };
  }

  return {
    /** Route table: path → handler of the parsed body. */
    routes: {
      '/wallet/triggersmartcontract': triggerSmartContract,
      '/wallet/triggerconstantcontract': triggerConstantContract,
      '/wallet/createtransaction': createTransaction,
      '/wallet/broadcasttransaction': broadcast,
      '/wallet/gettransactionbyid': getTransactionById,
      '/wallet/gettransactioninfobyid': getTransactionInfoById,
      '/wallet/getaccount': getAccount,
      '/wallet/getaccountresource': getAccountResource,
      '/wallet/getchainparameters': getChainParameters,
    } as Record<string, (body: Record<string, unknown>) => unknown>,
    /** Money arriving from outside: a TRC20 balance credited (the Transfer log is the caller's). */
    creditToken(token20: string, holder20: string, amount: bigint) {
      if (amount < 0n || tokenBalance(token20, holder20) + amount > UINT256_MAX) throw new Error('a token balance must stay within uint256');
      setTokenBalance(token20, holder20, tokenBalance(token20, holder20) + amount);
    },
    /** TRX arriving from outside; activates the account as a real TRX transfer would. */
    fundTrx(hex41: string, sun: bigint) {
      if (sun < 0n) throw new Error('amount_sun must not be negative');
      creditTrx(hex41, sun);
    },
    trxBalance,
    tokenBalance,
  };
}

export function isWalletInputError(err: unknown): boolean {
  return err instanceof WalletInputError;
}

/** The 41-prefixed address whose key made `sig` (r||s||v, v 27/28 or 0/1) over the txID bytes, or null. */
function recoverSigner(txID: string, sig: string): string | null {
  try {
    const pub = SigningKey.recoverPublicKey('0x' + txID, '0x' + sig);
    return '41' + computeAddress(pub).slice(2).toLowerCase();
  } catch {
    return null;
  }
}
