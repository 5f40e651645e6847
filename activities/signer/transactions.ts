// What a signer will sign, decided in one place: the strict reading of an unsigned EVM or TRON
// transaction, its destination (for the allow-to policy), TRON's signature over the txID, and
// the signed forms both signers return. The keystore signer, the HTTP signer's answer checks
// and the reference signer process all import these, so they cannot disagree.
import { isDeepStrictEqual } from 'node:util';
import { SigningKey, Transaction, getAddress, recoverAddress, sha256 } from 'ethers';
import { utils as tronUtils } from 'tronweb';
import { tronFromHex20 } from '../chain/tron-address.js';
import { SignerRefusedError, type EvmUnsignedTx, type TronUnsignedTx, type UnsignedTx } from './signer.js';

/** EIP-1559, the only EVM envelope we sign: no legacy gas pricing, no EIP-7702 delegation. */
export const EVM_TX_TYPE = 2;
/** Call data bound: a token transfer is 68 bytes; nothing a payout sends comes near this. */
export const EVM_DATA_BYTES_MAX = 8 * 1024;
/** raw_data_hex bound, in bytes: a TRC20 transfer's raw data is a few hundred. */
export const TRON_RAW_DATA_BYTES_MAX = 8 * 1024;

/** uint256 as a canonical decimal string: no sign, no leading zeros, at most 78 digits. */
const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;
const HEX_BYTES = /^0x(?:[0-9a-fA-F]{2})*$/;
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const TRON_HEX_ADDRESS = /^41[0-9a-fA-F]{40}$/;
const TXID = /^[0-9a-fA-F]{64}$/;
const UINT256_MAX = 2n ** 256n - 1n;

const EVM_FIELDS = ['kind', 'chainId', 'nonce', 'to', 'data', 'value', 'gasLimit', 'maxFeePerGas', 'maxPriorityFeePerGas'] as const;
const TRON_FIELDS = new Set(['kind', 'txID', 'raw_data_hex', 'raw_data']);
/** What /wallet/triggersmartcontract and /wallet/createtransaction put in raw_data (data: a memo). */
const TRON_RAW_DATA_FIELDS = new Set(['contract', 'ref_block_bytes', 'ref_block_num', 'ref_block_hash', 'expiration', 'timestamp', 'fee_limit', 'data']);
const TRON_CONTRACT_FIELDS = new Set(['parameter', 'type', 'Permission_id']);
/**
 * The TRON contracts a payout or a sweep needs: a TRC20 call and a TRX transfer. Anything else
 * (AccountPermissionUpdateContract above all, which hands an account's control to other keys)
 * is refused, whoever asks.
 */
const TRON_CONTRACT_VALUE_FIELDS: Record<string, { to: string; fields: Set<string> }> = {
  TriggerSmartContract: { to: 'contract_address', fields: new Set(['owner_address', 'contract_address', 'data', 'call_value', 'call_token_value', 'token_id']) },
  TransferContract: { to: 'to_address', fields: new Set(['owner_address', 'to_address', 'amount']) },
};

function invalid(message: string): never {
  throw new SignerRefusedError('invalid_tx', message);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyFields(o: Record<string, unknown>, allowed: Set<string> | readonly string[], what: string): void {
  const set = allowed instanceof Set ? allowed : new Set(allowed);
  for (const f of Object.keys(o)) if (!set.has(f)) invalid(`${what} has an unknown field ${JSON.stringify(f).slice(0, 50)}`);
}

function uint(o: Record<string, unknown>, field: string): bigint {
  const v = o[field];
  if (typeof v !== 'string' || !DECIMAL.test(v)) invalid(`tx.${field} must be a decimal string`);
  const n = BigInt(v);
  if (n > UINT256_MAX) invalid(`tx.${field} exceeds uint256`);
  return n;
}

/** An EvmUnsignedTx from outside, checked: every field present, canonical and in range. */
export function parseEvmUnsignedTx(raw: unknown): EvmUnsignedTx {
  if (!isObject(raw)) invalid('tx must be an object');
  onlyFields(raw, EVM_FIELDS, 'tx');
  if (raw.kind !== 'evm') invalid("tx.kind must be 'evm'");
  for (const f of ['chainId', 'nonce', 'value', 'gasLimit', 'maxFeePerGas', 'maxPriorityFeePerGas']) uint(raw, f);
  if (BigInt(raw.chainId as string) === 0n) invalid('tx.chainId must be a chain id, not 0');
  // ethers holds the nonce as a JS number; no account ever comes near 2^53 transactions.
  if (BigInt(raw.nonce as string) > BigInt(Number.MAX_SAFE_INTEGER)) invalid('tx.nonce exceeds 2^53 - 1');
  if (BigInt(raw.maxPriorityFeePerGas as string) > BigInt(raw.maxFeePerGas as string)) invalid('tx.maxPriorityFeePerGas exceeds tx.maxFeePerGas');
  // A transaction without `to` deploys a contract: never something a payout signs.
  if (typeof raw.to !== 'string' || !EVM_ADDRESS.test(raw.to)) invalid('tx.to must be a 20-byte 0x address');
  try {
    getAddress(raw.to);
  } catch {
    invalid('tx.to has a wrong EIP-55 checksum');
  }
  if (typeof raw.data !== 'string' || !HEX_BYTES.test(raw.data)) invalid("tx.data must be 0x-prefixed hex bytes ('0x' for none)");
  if ((raw.data.length - 2) / 2 > EVM_DATA_BYTES_MAX) invalid(`tx.data exceeds ${EVM_DATA_BYTES_MAX} bytes`);
  return raw as unknown as EvmUnsignedTx;
}

/** The unsigned ethers Transaction (type 2) of a checked EvmUnsignedTx. */
export function evmTransaction(tx: EvmUnsignedTx): Transaction {
  return Transaction.from({
    type: EVM_TX_TYPE,
    chainId: BigInt(tx.chainId),
    nonce: Number(tx.nonce),
    to: getAddress(tx.to),
    data: tx.data.toLowerCase(),
    value: BigInt(tx.value),
    gasLimit: BigInt(tx.gasLimit),
    maxFeePerGas: BigInt(tx.maxFeePerGas),
    maxPriorityFeePerGas: BigInt(tx.maxPriorityFeePerGas),
    accessList: [],
  });
}

/**
 * Whether a decoded (signed) transaction is exactly the one asked for: envelope, chain, nonce,
 * destination, call data, value and every gas field. Returns the first field that differs.
 */
export function evmTxDifference(asked: EvmUnsignedTx, got: Transaction): string | null {
  if (got.type !== EVM_TX_TYPE) return 'type';
  if (got.chainId !== BigInt(asked.chainId)) return 'chainId';
  if (BigInt(got.nonce) !== BigInt(asked.nonce)) return 'nonce';
  if ((got.to ?? '').toLowerCase() !== asked.to.toLowerCase()) return 'to';
  if (got.data.toLowerCase() !== asked.data.toLowerCase()) return 'data';
  if (got.value !== BigInt(asked.value)) return 'value';
  if (got.gasLimit !== BigInt(asked.gasLimit)) return 'gasLimit';
  if (got.maxFeePerGas !== BigInt(asked.maxFeePerGas)) return 'maxFeePerGas';
  if (got.maxPriorityFeePerGas !== BigInt(asked.maxPriorityFeePerGas)) return 'maxPriorityFeePerGas';
  if ((got.accessList ?? []).length !== 0) return 'accessList';
  if ((got.authorizationList ?? []).length !== 0) return 'authorizationList';
  return null;
}

/** sha256 of raw_data_hex's bytes, lowercase, without 0x: what a TRON txID must be. */
export function tronTxIdOf(rawDataHex: string): string {
  return sha256('0x' + rawDataHex).slice(2);
}

function tronHexAddress(value: unknown, what: string): string {
  if (typeof value !== 'string' || !TRON_HEX_ADDRESS.test(value)) invalid(`${what} must be a hex TRON address (41 + 20 bytes)`);
  return tronFromHex20(value.slice(2));
}

export interface TronContractView {
  type: string;
  /** base58check of owner_address: the account that signs and pays. */
  owner: string;
  /** base58check of contract_address (TriggerSmartContract) or to_address (TransferContract). */
  to: string;
}

/**
 * A TronUnsignedTx from outside, checked: its one contract is of a type we sign, txID is
 * sha256(raw_data_hex) (else `txid_mismatch`), and raw_data encodes to exactly raw_data_hex
 * (else `raw_data_mismatch`). The last check matters because the signature covers the hex while
 * policy reads the JSON, and /wallet/broadcasttransaction re-encodes the JSON: a JSON that says
 * one thing over a hex that says another must not be signed.
 */
export function parseTronUnsignedTx(raw: unknown): { tx: TronUnsignedTx; contract: TronContractView } {
  if (!isObject(raw)) invalid('tx must be an object');
  onlyFields(raw, TRON_FIELDS, 'tx');
  if (raw.kind !== 'tron') invalid("tx.kind must be 'tron'");
  if (typeof raw.txID !== 'string' || !TXID.test(raw.txID)) invalid('tx.txID must be 32 bytes of hex');
  if (typeof raw.raw_data_hex !== 'string' || raw.raw_data_hex.length === 0 || !HEX_BYTES.test('0x' + raw.raw_data_hex)) invalid('tx.raw_data_hex must be hex bytes');
  if (raw.raw_data_hex.length / 2 > TRON_RAW_DATA_BYTES_MAX) invalid(`tx.raw_data_hex exceeds ${TRON_RAW_DATA_BYTES_MAX} bytes`);
  if (!isObject(raw.raw_data)) invalid('tx.raw_data must be an object');
  if (tronTxIdOf(raw.raw_data_hex) !== raw.txID.toLowerCase()) {
    throw new SignerRefusedError('txid_mismatch', 'tx.txID is not sha256 of tx.raw_data_hex');
  }
  const rd = raw.raw_data;
  onlyFields(rd, TRON_RAW_DATA_FIELDS, 'tx.raw_data');
  if (!Array.isArray(rd.contract) || rd.contract.length !== 1 || !isObject(rd.contract[0])) invalid('tx.raw_data.contract must hold exactly one contract');
  const c = rd.contract[0];
  onlyFields(c, TRON_CONTRACT_FIELDS, 'the contract');
  const shape = typeof c.type === 'string' ? TRON_CONTRACT_VALUE_FIELDS[c.type] : undefined;
  if (!shape) invalid(`contract type ${JSON.stringify(c.type).slice(0, 60)} is not one a signer signs (TriggerSmartContract, TransferContract)`);
  if (!isObject(c.parameter) || !isObject(c.parameter.value)) invalid('the contract needs parameter.value');
  onlyFields(c.parameter, new Set(['value', 'type_url']), 'the contract parameter');
  const value = c.parameter.value;
  onlyFields(value, shape.fields, `the ${c.type as string}`);
  const contract: TronContractView = {
    type: c.type as string,
    owner: tronHexAddress(value.owner_address, 'owner_address'),
    to: tronHexAddress(value[shape.to], shape.to),
  };
  let encodesToHex: boolean;
  try {
    encodesToHex = tronUtils.transaction.txCheck({ txID: raw.txID, raw_data: rd, raw_data_hex: raw.raw_data_hex });
  } catch (e) {
    throw new SignerRefusedError('raw_data_mismatch', `tx.raw_data does not encode: ${(e as Error).message}`.slice(0, 300));
  }
  if (!encodesToHex) throw new SignerRefusedError('raw_data_mismatch', 'tx.raw_data does not encode to tx.raw_data_hex');
  return { tx: raw as unknown as TronUnsignedTx, contract };
}

/** Refuse a transaction for a key of the other kind before anything is derived or sent. */
export function checkKindMatches(keyKind: 'evm' | 'tron', tx: { kind?: unknown }): void {
  if (tx.kind !== keyKind) throw new SignerRefusedError('kind_mismatch', `a ${keyKind} key signs ${keyKind} transactions only`);
}

/** Where a transaction goes, in the rail's form: EVM `to`; TRON contract_address or to_address. */
export function destinationOf(tx: UnsignedTx): string {
  if (tx.kind === 'evm') return getAddress(parseEvmUnsignedTx(tx).to);
  return parseTronUnsignedTx(tx).contract.to;
}

/**
 * TRON's signature: secp256k1 over the txID's 32 bytes (no further hashing), serialized as
 * r ‖ s ‖ v with v = 27 + recovery id, 65 bytes of lowercase hex without 0x. RFC 6979 nonces and
 * low s, as tronweb's utils.crypto.signTransaction produces (it writes v in capitals).
 */
export function signTronTxId(privateKey: string, txID: string): string {
  return new SigningKey(privateKey).sign('0x' + txID.toLowerCase()).serialized.slice(2);
}

/** The base58check address whose key made a TRON signature over txID. Throws on a malformed one. */
export function recoverTronSigner(txID: string, signatureHex: string): string {
  if (!/^[0-9a-fA-F]{130}$/.test(signatureHex)) throw new Error('a TRON signature is 65 bytes of hex');
  return tronFromHex20(recoverAddress('0x' + txID.toLowerCase(), '0x' + signatureHex));
}

/** The signed transaction as /wallet/broadcasttransaction takes it. */
export function tronSignedRaw(tx: TronUnsignedTx, signatureHex: string): string {
  const { kind: _kind, ...unsigned } = tx;
  return JSON.stringify({ ...unsigned, signature: [signatureHex] });
}

/** The fields of a signed TRON answer, checked against what was asked (the same tx, one signature). */
export function tronAnswerDifference(asked: TronUnsignedTx, answerRaw: unknown): { difference: string } | { signature: string } {
  if (!isObject(answerRaw)) return { difference: 'raw is not a JSON object' };
  const keys = Object.keys(answerRaw).sort().join(',');
  if (keys !== 'raw_data,raw_data_hex,signature,txID') return { difference: `raw has fields ${keys.slice(0, 100)}` };
  if (answerRaw.txID !== asked.txID) return { difference: 'txID' };
  if (answerRaw.raw_data_hex !== asked.raw_data_hex) return { difference: 'raw_data_hex' };
  if (!isDeepStrictEqual(answerRaw.raw_data, asked.raw_data)) return { difference: 'raw_data' };
  const sig = answerRaw.signature;
  if (!Array.isArray(sig) || sig.length !== 1 || typeof sig[0] !== 'string' || !/^[0-9a-fA-F]{130}$/.test(sig[0])) {
    return { difference: 'signature must be one 65-byte hex string' };
  }
  return { signature: sig[0] };
}
