// The one signer interface. Stablerail never holds a private key: activities hand an unsigned
// transaction and the key's name (rail, role, index) to a Signer and get the signed bytes back.
// Sandbox uses the keystore signer (a local keystore file); live uses an external signer over
// HTTP (docs/signer.md documents its requests; scripts/signer.ts is a reference one).
// Every field is a string or plain JSON: these objects cross Temporal and HTTP unchanged.

export type KeyRole = 'treasury' | 'deposit';

/**
 * Which key signs. Keys derive from one BIP-39 seed, by the rail's kind:
 * - deposit: m/44'/60'/0'/0/{index} (evm), m/44'/195'/0'/0/{index} (tron): the same addresses the
 *   service derives from the rail's watch-only xpub;
 * - treasury: m/44'/60'/2'/0/0 (evm), m/44'/195'/2'/0/0 (tron): the hot wallet payouts leave from.
 */
export interface KeyRef {
  rail: string;
  kind: 'evm' | 'tron';
  role: KeyRole;
  /** Deposit keys only: the address index as a decimal string. */
  index?: string;
}

/** An EIP-1559 transaction; every number a decimal string. */
export interface EvmUnsignedTx {
  kind: 'evm';
  chainId: string;
  nonce: string;
  to: string;
  /** 0x-prefixed call data ('0x' for a plain value transfer). */
  data: string;
  value: string;
  gasLimit: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
}

/** A TRON transaction as /wallet/triggersmartcontract or /wallet/createtransaction build it. */
export interface TronUnsignedTx {
  kind: 'tron';
  /** sha256 of raw_data_hex's bytes: what is signed, and the transaction's id on chain. */
  txID: string;
  raw_data_hex: string;
  raw_data: Record<string, unknown>;
}

export type UnsignedTx = EvmUnsignedTx | TronUnsignedTx;

export interface SignedTx {
  kind: 'evm' | 'tron';
  /** The signing key's address in the rail's form (EVM checksum, TRON base58check). */
  from: string;
  /** EVM: 0x keccak of the signed envelope; TRON: 0x + txID. Lowercase. */
  txHash: string;
  /** EVM: the 0x serialized signed transaction; TRON: JSON of the transaction with `signature`. */
  raw: string;
}

export interface Signer {
  /** The address of a key, so the service can name the treasury without holding its key. */
  address(key: KeyRef): Promise<string>;
  sign(key: KeyRef, tx: UnsignedTx): Promise<SignedTx>;
  close?(): Promise<void>;
}

/** The signer refused or could not sign (bad request, unknown key, policy): not retried. */
export class SignerRefusedError extends Error {
  override name = 'SignerRefusedError';
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The signer could not be reached or failed: retried by the activity's policy. */
export class SignerUnavailableError extends Error {
  override name = 'SignerUnavailableError';
}
