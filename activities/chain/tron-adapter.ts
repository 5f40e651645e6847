// The TRON rail adapter: TRC20 Transfer logs and blocks through TRON's Ethereum-compatible
// JSON-RPC (addresses there are 20-byte hex; the rail's form is base58check with the 0x41
// prefix, converted with tronweb), and the solidified height from the solidity HTTP API
// (/walletsolidity/getnowblock) through tronweb's solidity node client.
import { TronWeb } from 'tronweb';
import type { RailConfig } from '../config.js';
import type { RpcPool } from './rpc-pool.js';
import { ChainDataError, RPC_TIMEOUT_MS } from './rail-adapter.js';
import { JsonRpcRailAdapter } from './json-rpc-adapter.js';
import { tronFromHex20, tronToHex20 } from './tron-address.js';

/** TRON solidifies a block once 19 of the 27 super representatives built on it. */
export const TRON_SOLIDIFY_DEPTH = 19;

export class TronAdapter extends JsonRpcRailAdapter {
  private readonly tronWeb: TronWeb;

  constructor(rail: RailConfig, rpc?: RpcPool) {
    super(rail, rpc, '0x' + tronToHex20(rail.token_contract));
    const solidity = rail.solidity_url ?? new URL(rail.rpc_urls[0]!).origin;
    this.tronWeb = new TronWeb({ fullHost: solidity, solidityNode: solidity });
    this.tronWeb.solidityNode.timeout = RPC_TIMEOUT_MS;
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

  protected hex20Of(address: string): string {
    return tronToHex20(address);
  }

  protected addressOf(hex40: string): string {
    return tronFromHex20(hex40);
  }
}
