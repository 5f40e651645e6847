// The EVM rail adapter on ethers 6: raw JSON-RPC (eth_blockNumber, eth_getBlockByNumber,
// eth_getLogs) through an RpcPool with failover, Transfer logs decoded from topics and data.
import { getAddress } from 'ethers';
import type { RailConfig } from '../config.js';
import { RpcPool } from './rpc-pool.js';
import {
  ChainDataError,
  TO_FILTER_ADDRESSES_MAX,
  TRANSFER_TOPIC,
  decodeTransferLog,
  parseBlock,
  parseQuantity,
  toQuantity,
  type ChainBlock,
  type ChainTransfer,
  type RailAdapter,
  type RawLog,
} from './rail-adapter.js';

/** Concurrent eth_getLogs calls for one wide range. */
export const LOGS_PARALLEL_RANGES = 4;
/** Checksumming costs a keccak per address; a backfill meets the same addresses again and again. */
const CHECKSUM_CACHE_MAX = 200_000;

export class EvmAdapter implements RailAdapter {
  private readonly rpc: RpcPool;
  private readonly token: string;
  private readonly checksums = new Map<string, string>();

  constructor(readonly rail: RailConfig, rpc?: RpcPool) {
    this.rpc = rpc ?? new RpcPool(rail.rpc_urls, rail.chain_id);
    this.token = getAddress(rail.token_contract).toLowerCase();
  }

  async headHeight(): Promise<number> {
    return this.rpc.call('eth_blockNumber', [], (raw) => parseQuantity(raw, 'head height'));
  }

  async block(height: number): Promise<ChainBlock | null> {
    return this.rpc.call('eth_getBlockByNumber', [toQuantity(height), false], (raw) => {
      const b = parseBlock(raw);
      if (b && b.height !== height) throw new ChainDataError(`asked for block ${height}, node answered ${b.height}`);
      return b;
    });
  }

  async transfers(fromHeight: number, toHeight: number, to?: readonly string[]): Promise<ChainTransfer[]> {
    const toTopics = to && to.length > 0 && to.length <= TO_FILTER_ADDRESSES_MAX
      ? to.map((a) => '0x' + '0'.repeat(24) + getAddress(a).slice(2).toLowerCase())
      : null;
    // A wide range is read as a few sub-ranges at once: a node serves them on several threads.
    const span = toHeight - fromHeight + 1;
    if (span >= LOGS_PARALLEL_RANGES * 2) {
      const step = Math.ceil(span / LOGS_PARALLEL_RANGES);
      const parts: Array<[number, number]> = [];
      for (let h = fromHeight; h <= toHeight; h += step) parts.push([h, Math.min(toHeight, h + step - 1)]);
      return (await Promise.all(parts.map(([a, b]) => this.transferRange(a, b, toTopics)))).flat();
    }
    return this.transferRange(fromHeight, toHeight, toTopics);
  }

  private transferRange(fromHeight: number, toHeight: number, toTopics: string[] | null): Promise<ChainTransfer[]> {
    const filter = { fromBlock: toQuantity(fromHeight), toBlock: toQuantity(toHeight), address: this.token, topics: [TRANSFER_TOPIC, null, toTopics] };
    return this.rpc.call('eth_getLogs', [filter], (raw) => {
      if (!Array.isArray(raw)) throw new ChainDataError('eth_getLogs did not answer a list');
      const out: ChainTransfer[] = [];
      for (const log of raw as RawLog[]) {
        const t = decodeTransferLog(log, (hex) => this.checksum(hex));
        if (!t) continue;
        if (t.blockHeight < fromHeight || t.blockHeight > toHeight) throw new ChainDataError(`log at height ${t.blockHeight} outside ${fromHeight}..${toHeight}`);
        out.push(t);
      }
      return out;
    });
  }

  async finalizedHeight(headHeight: number): Promise<number> {
    // Depth rule: the rail's finality_confirmations say how deep a block must be to be final.
    return headHeight - this.rail.finality_confirmations + 1;
  }

  normalizeAddress(address: string): string {
    return getAddress(address);
  }

  private checksum(hex40: string): string {
    let c = this.checksums.get(hex40);
    if (c === undefined) {
      c = getAddress('0x' + hex40);
      if (this.checksums.size >= CHECKSUM_CACHE_MAX) this.checksums.clear();
      this.checksums.set(hex40, c);
    }
    return c;
  }

  close(): void {
    this.rpc.close();
  }
}
