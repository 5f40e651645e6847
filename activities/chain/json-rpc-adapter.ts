// The half every rail adapter shares: head, blocks and token Transfer logs read over the
// Ethereum JSON-RPC (eth_blockNumber, eth_getBlockByNumber, eth_getLogs) through an RpcPool
// with failover. What differs per chain (the address form, finality, how a wide log range is
// read) is left to small hooks in each adapter.
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

/** Converting an address costs a hash (checksum, base58check); a backfill meets the same addresses again and again. */
const ADDRESS_CACHE_MAX = 200_000;

export abstract class JsonRpcRailAdapter implements RailAdapter {
  protected readonly rpc: RpcPool;
  /** Concurrent eth_getLogs calls one wide range is split into; 1 reads it in one call. */
  protected readonly logsParallelRanges: number = 1;
  private readonly addresses = new Map<string, string>();

  /** `tokenHex`: the token contract as eth_getLogs filters by it (0x and 20 bytes, lowercase). */
  protected constructor(readonly rail: RailConfig, rpc: RpcPool | undefined, private readonly tokenHex: string) {
    this.rpc = rpc ?? new RpcPool(rail.rpc_urls, rail.chain_id);
  }

  /** The 20 address bytes (lowercase hex, no 0x) of an address in the rail's form. */
  protected abstract hex20Of(address: string): string;
  /** The rail's form of 20 address bytes (lowercase hex, no 0x); the base caches it. */
  protected abstract addressOf(hex40: string): string;
  abstract finalizedHeight(headHeight: number): Promise<number>;
  abstract normalizeAddress(address: string): string;

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
    const toTopics = to && to.length > 0 && to.length <= TO_FILTER_ADDRESSES_MAX ? to.map((a) => '0x' + '0'.repeat(24) + this.hex20Of(a)) : null;
    // A wide range is read as a few sub-ranges at once: a node serves them on several threads.
    const span = toHeight - fromHeight + 1;
    if (this.logsParallelRanges > 1 && span >= this.logsParallelRanges * 2) {
      const step = Math.ceil(span / this.logsParallelRanges);
      const parts: Array<[number, number]> = [];
      for (let h = fromHeight; h <= toHeight; h += step) parts.push([h, Math.min(toHeight, h + step - 1)]);
      return (await Promise.all(parts.map(([a, b]) => this.transferRange(a, b, toTopics)))).flat();
    }
    return this.transferRange(fromHeight, toHeight, toTopics);
  }

  private transferRange(fromHeight: number, toHeight: number, toTopics: string[] | null): Promise<ChainTransfer[]> {
    const filter = { fromBlock: toQuantity(fromHeight), toBlock: toQuantity(toHeight), address: this.tokenHex, topics: [TRANSFER_TOPIC, null, toTopics] };
    return this.rpc.call('eth_getLogs', [filter], (raw) => {
      if (!Array.isArray(raw)) throw new ChainDataError('eth_getLogs did not answer a list');
      const out: ChainTransfer[] = [];
      for (const log of raw as RawLog[]) {
        const t = decodeTransferLog(log, (hex) => this.cachedAddressOf(hex));
        if (!t) continue;
        if (t.blockHeight < fromHeight || t.blockHeight > toHeight) throw new ChainDataError(`log at height ${t.blockHeight} outside ${fromHeight}..${toHeight}`);
        out.push(t);
      }
      return out;
    });
  }

  private cachedAddressOf(hex40: string): string {
    let a = this.addresses.get(hex40);
    if (a === undefined) {
      a = this.addressOf(hex40);
      if (this.addresses.size >= ADDRESS_CACHE_MAX) this.addresses.clear();
      this.addresses.set(hex40, a);
    }
    return a;
  }

  close(): void {
    this.rpc.close();
  }
}
