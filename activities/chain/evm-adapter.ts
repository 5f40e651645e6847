// The EVM rail adapter on ethers 6: the shared JSON-RPC reads (json-rpc-adapter.ts) with
// checksummed addresses, finality by depth and wide log ranges read in parallel.
import { getAddress } from 'ethers';
import type { RailConfig } from '../config.js';
import type { RpcPool } from './rpc-pool.js';
import { JsonRpcRailAdapter } from './json-rpc-adapter.js';

/** Concurrent eth_getLogs calls for one wide range. */
export const LOGS_PARALLEL_RANGES = 4;

export class EvmAdapter extends JsonRpcRailAdapter {
  protected override readonly logsParallelRanges = LOGS_PARALLEL_RANGES;

  constructor(rail: RailConfig, rpc?: RpcPool) {
    super(rail, rpc, getAddress(rail.token_contract).toLowerCase());
  }

  async finalizedHeight(headHeight: number): Promise<number> {
    // Depth rule: the rail's finality_confirmations say how deep a block must be to be final.
    return headHeight - this.rail.finality_confirmations + 1;
  }

  normalizeAddress(address: string): string {
    return getAddress(address);
  }

  protected hex20Of(address: string): string {
    return getAddress(address).slice(2).toLowerCase();
  }

  protected addressOf(hex40: string): string {
    return getAddress('0x' + hex40);
  }
}
