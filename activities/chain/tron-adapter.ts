// The TRON rail adapter: TRC20 Transfer logs and blocks through TRON's Ethereum-compatible
// JSON-RPC (addresses there are 20-byte hex; the rail's form is base58check with the 0x41
// prefix, converted with tronweb), and the solidified height from the solidity HTTP API
// (/walletsolidity/getnowblock) through tronweb's solidity node client.
import { TronWeb } from 'tronweb';
import type { RailConfig } from '../config.js';
import { RpcPool } from './rpc-pool.js';
import {
  ChainDataError,
  RPC_TIMEOUT_MS,
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
import { tronFromHex20, tronToHex20 } from './tron-address.js';

/** TRON solidifies a block once 19 of the 27 super representatives built on it. */
export const TRON_SOLIDIFY_DEPTH = 19;
const BASE58_CACHE_MAX = 200_000;

export class TronAdapter implements RailAdapter {
  private readonly rpc: RpcPool;
  private readonly tronWeb: TronWeb;
  private readonly tokenHex: string;
  private readonly base58 = new Map<string, string>();

  constructor(readonly rail: RailConfig, rpc?: RpcPool) {
    this.rpc = rpc ?? new RpcPool(rail.rpc_urls, rail.chain_id);
    const solidity = rail.solidity_url ?? new URL(rail.rpc_urls[0]!).origin;
    this.tronWeb = new TronWeb({ fullHost: solidity, solidityNode: solidity });
    this.tronWeb.solidityNode.timeout = RPC_TIMEOUT_MS;
    this.tokenHex = '0x' + tronToHex20(rail.token_contract);
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
    const toTopics = to && to.length > 0 && to.length <= TO_FILTER_ADDRESSES_MAX ? to.map((a) => '0x' + '0'.repeat(24) + tronToHex20(a)) : null;
    const filter = { fromBlock: toQuantity(fromHeight), toBlock: toQuantity(toHeight), address: this.tokenHex, topics: [TRANSFER_TOPIC, null, toTopics] };
    return this.rpc.call('eth_getLogs', [filter], (raw) => {
      if (!Array.isArray(raw)) throw new ChainDataError('eth_getLogs did not answer a list');
      const out: ChainTransfer[] = [];
      for (const log of raw as RawLog[]) {
        const t = decodeTransferLog(log, (hex) => this.toBase58(hex));
        if (!t) continue;
        if (t.blockHeight < fromHeight || t.blockHeight > toHeight) throw new ChainDataError(`log at height ${t.blockHeight} outside ${fromHeight}..${toHeight}`);
        out.push(t);
      }
      return out;
    });
  }

  async finalizedHeight(processedHeight: number): Promise<number> {
    const nb = (await this.tronWeb.solidityNode.request('walletsolidity/getnowblock', {}, 'post')) as { block_header?: { raw_data?: { number?: unknown } } };
    const n = nb?.block_header?.raw_data?.number;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ChainDataError(`malformed solidified block: ${JSON.stringify(nb)?.slice(0, 120)}`);
    return Math.min(n, processedHeight);
  }

  normalizeAddress(address: string): string {
    return tronFromHex20(tronToHex20(address));
  }

  private toBase58(hex40: string): string {
    let b = this.base58.get(hex40);
    if (b === undefined) {
      b = tronFromHex20(hex40);
      if (this.base58.size >= BASE58_CACHE_MAX) this.base58.clear();
      this.base58.set(hex40, b);
    }
    return b;
  }

  close(): void {
    this.rpc.close();
  }
}
