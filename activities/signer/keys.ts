// Which private key a KeyRef names: strict validation of the name, then pure BIP-32 derivation
// from the seed's root node. The paths are the ones signer.ts documents; the deposit paths are
// the children of the account-level xpubs activities/deposit-address.ts derives addresses from,
// so a deposit key always signs from the address the service handed to the payer.
import { HDNodeWallet, Mnemonic, computeAddress, getAddress } from 'ethers';
import { tronFromHex20 } from '../chain/tron-address.js';
import { SignerRefusedError, type KeyRef } from './signer.js';

/** Deposit indexes are non-hardened BIP-32 children: 0 … 2^31 − 1. */
export const KEY_INDEX_MAX = 2 ** 31 - 1;

/** BIP-44 coin types: Ethereum 60, TRON 195. */
const COIN_TYPE = { evm: 60, tron: 195 } as const;
/** Account 0 receives deposits (the rail's xpub); account 2 is the treasury hot wallet. */
const ACCOUNT = { deposit: 0, treasury: 2 } as const;

/** The same pattern a rail id has in activities/config.ts. */
const RAIL_ID = /^[a-z0-9][a-z0-9-]{1,40}$/;
/** Canonical decimal: no sign, no leading zeros, at most 10 digits before the range check. */
const INDEX_DECIMAL = /^(0|[1-9][0-9]{0,9})$/;
const KEY_REF_FIELDS = new Set(['rail', 'kind', 'role', 'index']);

function refuse(message: string): never {
  throw new SignerRefusedError('invalid_key_ref', message);
}

/**
 * A KeyRef as it arrives from outside (a Temporal payload, an HTTP body), checked field by field.
 * Unknown fields are refused rather than ignored: a name that means more than we read is not
 * one we may sign for.
 */
export function parseKeyRef(raw: unknown): KeyRef {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) refuse('key must be an object');
  const o = raw as Record<string, unknown>;
  for (const field of Object.keys(o)) if (!KEY_REF_FIELDS.has(field)) refuse(`key has an unknown field ${JSON.stringify(field).slice(0, 50)}`);
  if (typeof o.rail !== 'string' || !RAIL_ID.test(o.rail)) refuse('key.rail must be a rail id');
  if (o.kind !== 'evm' && o.kind !== 'tron') refuse("key.kind must be 'evm' or 'tron'");
  if (o.role === 'treasury') {
    if (o.index !== undefined) refuse('a treasury key has no index');
    return { rail: o.rail, kind: o.kind, role: 'treasury' };
  }
  if (o.role === 'deposit') {
    if (typeof o.index !== 'string' || !INDEX_DECIMAL.test(o.index) || Number(o.index) > KEY_INDEX_MAX) {
      refuse(`a deposit key needs index as a decimal string in 0..${KEY_INDEX_MAX}`);
    }
    return { rail: o.rail, kind: o.kind, role: 'deposit', index: o.index };
  }
  return refuse("key.role must be 'deposit' or 'treasury'");
}

/** The BIP-32 path of a (validated) key. */
export function keyPath(key: KeyRef): string {
  const coin = COIN_TYPE[key.kind];
  const index = key.role === 'deposit' ? Number(key.index) : 0;
  return `m/44'/${coin}'/${ACCOUNT[key.role]}'/0/${index}`;
}

/** The account-level path whose xpub the service holds for a rail kind's deposits. */
export function depositAccountPath(kind: KeyRef['kind']): string {
  return `m/44'/${COIN_TYPE[kind]}'/${ACCOUNT.deposit}'`;
}

/** The root (depth 0) node of a BIP-39 mnemonic, the only node derivation starts from. */
export function rootFromMnemonic(mnemonic: Mnemonic | string): HDNodeWallet {
  const m = typeof mnemonic === 'string' ? Mnemonic.fromPhrase(mnemonic) : mnemonic;
  return HDNodeWallet.fromSeed(m.computeSeed());
}

/** An address in the rail's form: EVM checksum, or TRON base58check of 0x41 and the same 20 bytes. */
export function railAddress(kind: KeyRef['kind'], evmAddress: string): string {
  return kind === 'tron' ? tronFromHex20(evmAddress) : getAddress(evmAddress);
}

export interface DerivedKey {
  path: string;
  /** 0x + 32 bytes. Stays inside the signer process; never logged, never returned over HTTP. */
  privateKey: string;
  /** The EVM form of the address (TRON uses the same 20 bytes). */
  evmAddress: string;
  /** The address in the rail's form. */
  address: string;
}

/** Derive the key a KeyRef names from the seed's root node. Validates the KeyRef first. */
export function deriveKey(root: HDNodeWallet, key: KeyRef): DerivedKey {
  if (root.depth !== 0) throw new Error(`key derivation starts at the seed's root node, not at depth ${root.depth}`);
  const ref = parseKeyRef(key);
  const path = keyPath(ref);
  const node = root.derivePath(path);
  // computeAddress hashes the uncompressed public key, as both Ethereum and TRON require.
  const evmAddress = computeAddress(node.publicKey);
  return { path, privateKey: node.privateKey, evmAddress, address: railAddress(ref.kind, evmAddress) };
}
