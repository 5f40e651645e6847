// The one small interface every rail's chain access goes through. Activities (the watcher)
// use only this; a new rail is a new adapter plus config. Heights are block numbers as plain
// numbers (far below 2^53); amounts are bigint minor units, never floats.
import type { RailConfig } from '../config.js';

export interface ChainBlock {
  height: number;
  hash: string;
  parentHash: string;
  /** Seconds since the epoch, as the block's producer stamped it (absent from nodes that omit it). */
  timestamp?: number;
}

/** One token Transfer log. Keyed by (rail, txHash, logIndex): several in one tx each count once. */
export interface ChainTransfer {
  txHash: string;
  logIndex: number;
  blockHeight: number;
  blockHash: string;
  from: string;
  /** In the rail's canonical address form, the one deposit_addresses stores. */
  to: string;
  amountMinor: bigint;
}

export interface RailAdapter {
  readonly rail: RailConfig;
  /** Latest block height the node reports. */
  headHeight(): Promise<number>;
  /** The block at a height, or null when the node does not have it (yet, or any more). */
  block(height: number): Promise<ChainBlock | null>;
  /**
   * Token Transfer logs of the rail's token contract in [fromHeight, toHeight], optionally only
   * to the given addresses (a small set; the watcher passes none and matches in PostgreSQL).
   */
  transfers(fromHeight: number, toHeight: number, to?: readonly string[]): Promise<ChainTransfer[]>;
  /** Highest height the chain itself treats as final (EVM: by depth; TRON: the solidified block). */
  finalizedHeight(headHeight: number): Promise<number>;
  /** The canonical form of an address on this rail (EVM checksum, TRON base58check). */
  normalizeAddress(address: string): string;
  close(): void;
}

/** A node answered something that is not a well-formed chain object: retried, never trusted. */
export class ChainDataError extends Error {
  override name = 'ChainDataError';
}

/** Every configured node failed or timed out for one call. Retried by the activity's policy. */
export class RpcUnavailableError extends Error {
  override name = 'RpcUnavailableError';
}

/** keccak256("Transfer(address,address,uint256)"): the ERC20 and TRC20 Transfer event topic. */
export const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
/** Bounds on what one call may ask a node for. */
export const RPC_TIMEOUT_MS = 5_000;
export const TO_FILTER_ADDRESSES_MAX = 64;

const HASH_RE = /^0x[0-9a-fA-F]{64}$/;
const QUANTITY_RE = /^0x(0|[1-9a-fA-F][0-9a-fA-F]{0,15})$/;
const WORD_RE = /^0x[0-9a-fA-F]{64}$/;

export function parseQuantity(v: unknown, what: string): number {
  if (typeof v !== 'string' || !QUANTITY_RE.test(v)) throw new ChainDataError(`malformed ${what}: ${JSON.stringify(v)?.slice(0, 80)}`);
  const n = Number.parseInt(v, 16);
  if (!Number.isSafeInteger(n)) throw new ChainDataError(`${what} out of range: ${v}`);
  return n;
}

export function parseHash(v: unknown, what: string): string {
  if (typeof v !== 'string' || !HASH_RE.test(v)) throw new ChainDataError(`malformed ${what}: ${JSON.stringify(v)?.slice(0, 80)}`);
  return v.toLowerCase();
}

export function parseBlock(raw: unknown): ChainBlock | null {
  if (raw === null) return null;
  if (typeof raw !== 'object' || raw === undefined) throw new ChainDataError('malformed block: not an object');
  const b = raw as Record<string, unknown>;
  const block: ChainBlock = { height: parseQuantity(b.number, 'block number'), hash: parseHash(b.hash, 'block hash'), parentHash: parseHash(b.parentHash, 'parent hash') };
  if (b.timestamp !== undefined) block.timestamp = parseQuantity(b.timestamp, 'block timestamp');
  return block;
}

export interface RawLog {
  topics?: unknown;
  data?: unknown;
  transactionHash?: unknown;
  logIndex?: unknown;
  blockNumber?: unknown;
  blockHash?: unknown;
  removed?: unknown;
}

/**
 * Decode a Transfer log from its topics and data directly (no ABI coder: this is the hot path
 * of a backfill). `toAddress` maps the 20 address bytes (lowercase hex, no 0x) to the rail's form.
 */
export function decodeTransferLog(log: RawLog, toAddress: (hex40: string) => string): ChainTransfer | null {
  if (log.removed === true) return null;
  const topics = log.topics;
  if (!Array.isArray(topics) || topics.length !== 3 || topics[0]?.toLowerCase?.() !== TRANSFER_TOPIC) return null;
  const fromWord = topics[1];
  const toWord = topics[2];
  const data = log.data;
  if (typeof fromWord !== 'string' || !WORD_RE.test(fromWord) || typeof toWord !== 'string' || !WORD_RE.test(toWord)) {
    throw new ChainDataError('malformed Transfer topics');
  }
  // An address topic is 12 zero bytes then 20 address bytes; anything else is not an address.
  if (!/^0x0{24}/.test(fromWord) || !/^0x0{24}/.test(toWord)) throw new ChainDataError('Transfer topic is not a 20-byte address');
  if (typeof data !== 'string' || !WORD_RE.test(data)) throw new ChainDataError('malformed Transfer amount');
  return {
    txHash: parseHash(log.transactionHash, 'tx hash'),
    logIndex: parseQuantity(log.logIndex, 'log index'),
    blockHeight: parseQuantity(log.blockNumber, 'log block number'),
    blockHash: parseHash(log.blockHash, 'log block hash'),
    from: toAddress(fromWord.slice(26).toLowerCase()),
    to: toAddress(toWord.slice(26).toLowerCase()),
    amountMinor: BigInt(data),
  };
}

export function toQuantity(n: number): string {
  return '0x' + n.toString(16);
}
