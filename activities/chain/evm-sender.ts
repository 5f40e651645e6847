// Sending on an EVM rail: EIP-1559 transactions built from the node's fee market, broadcast
// as raw signed bytes, judged by the receipt's status and the token's Transfer log. USDT's
// ERC20 `transfer` returns nothing, so no return value is ever read.
import { Interface, Transaction, getAddress } from 'ethers';
import { nativeAssetOf, type RailConfig } from '../config.js';
import type { EvmUnsignedTx, SignedTx } from '../signer/signer.js';
import { RpcPool } from './rpc-pool.js';
import { ChainDataError, decodeTransferLog, parseQuantity, type ChainTransfer, type RawLog } from './rail-adapter.js';
import { BroadcastRejectedError, type FeeEstimate, type RailSender, type TxOutcome } from './rail-sender.js';

const ERC20 = new Interface(['function transfer(address to, uint256 value)', 'function balanceOf(address owner) view returns (uint256)']);
/** A plain ETH transfer costs exactly this much gas. */
export const NATIVE_TRANSFER_GAS = 21_000n;
/** Head room over the node's estimate: storage refunds and a first-time recipient vary the cost. */
const GAS_ESTIMATE_MARGIN_PCT = 130n;
/** Room for the base fee to rise for a few blocks before the transaction is mined. */
const BASE_FEE_MULTIPLIER = 2n;
const PRIORITY_FEE_FALLBACK_WEI = 1_000_000_000n;
/** geth and anvil refuse a same-nonce replacement that raises either fee by less than 10%. */
export const REPLACEMENT_MIN_BUMP_PCT = 10;

/**
 * The fees of a replacement: each of the old fees raised by the bump (never under the node's
 * minimum, plus one wei so rounding cannot land exactly on it), or today's market when higher.
 * Pure, so the rule is unit-tested apart from any node.
 */
export function bumpedFees(old: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }, market: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }, bumpPct: number): { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } {
  const pct = BigInt(Math.max(bumpPct, REPLACEMENT_MIN_BUMP_PCT) + 100);
  const up = (v: bigint) => (v * pct) / 100n + 1n;
  const priority = up(old.maxPriorityFeePerGas) > market.maxPriorityFeePerGas ? up(old.maxPriorityFeePerGas) : market.maxPriorityFeePerGas;
  let maxFee = up(old.maxFeePerGas) > market.maxFeePerGas ? up(old.maxFeePerGas) : market.maxFeePerGas;
  if (maxFee < priority) maxFee = priority;
  return { maxFeePerGas: maxFee, maxPriorityFeePerGas: priority };
}

const big = (v: unknown, what: string): bigint => {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]+$/.test(v)) throw new ChainDataError(`malformed ${what}: ${JSON.stringify(v)?.slice(0, 60)}`);
  return BigInt(v);
};

export class EvmSender implements RailSender {
  readonly nativeAsset: string;
  readonly nativeDecimals = 18;
  private readonly rpc: RpcPool;
  private readonly token: string;

  constructor(readonly rail: RailConfig, rpc?: RpcPool) {
    this.rpc = rpc ?? new RpcPool(rail.rpc_urls, rail.chain_id);
    this.token = getAddress(rail.token_contract);
    this.nativeAsset = nativeAssetOf(rail);
  }

  async nextNonce(address: string): Promise<number> {
    return this.rpc.call('eth_getTransactionCount', [getAddress(address), 'pending'], (raw) => parseQuantity(raw, 'nonce'));
  }

  async headHeight(): Promise<number> {
    return this.rpc.call('eth_blockNumber', [], (raw) => parseQuantity(raw, 'head height'));
  }

  async minedNonce(address: string): Promise<number> {
    return this.rpc.call('eth_getTransactionCount', [getAddress(address), 'latest'], (raw) => parseQuantity(raw, 'nonce'));
  }

  async knows(txHash: string): Promise<boolean> {
    return this.rpc.call('eth_getTransactionByHash', [txHash], (raw) => raw != null);
  }

  async buildReplacement(o: { raw: string; bumpPct: number }): Promise<EvmUnsignedTx> {
    const old = Transaction.from(o.raw);
    if (old.maxFeePerGas == null || old.maxPriorityFeePerGas == null || !old.to) throw new ChainDataError('the recorded transaction is not an EIP-1559 call');
    const fees = bumpedFees({ maxFeePerGas: old.maxFeePerGas, maxPriorityFeePerGas: old.maxPriorityFeePerGas }, await this.fees(), o.bumpPct);
    return {
      kind: 'evm',
      chainId: old.chainId.toString(),
      nonce: String(old.nonce),
      to: getAddress(old.to),
      data: old.data,
      value: old.value.toString(),
      gasLimit: old.gasLimit.toString(),
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
    };
  }

  private async fees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    const head = await this.rpc.call('eth_getBlockByNumber', ['latest', false], (raw) => raw as { baseFeePerGas?: string } | null);
    const baseFee = head?.baseFeePerGas ? big(head.baseFeePerGas, 'base fee') : 0n;
    let priority: bigint;
    try {
      priority = await this.rpc.call('eth_maxPriorityFeePerGas', [], (raw) => big(raw, 'priority fee'));
    } catch {
      priority = PRIORITY_FEE_FALLBACK_WEI; // not every node offers the method
    }
    return { maxFeePerGas: baseFee * BASE_FEE_MULTIPLIER + priority, maxPriorityFeePerGas: priority };
  }

  private async tokenTransferGas(from: string, to: string, amountMinor: bigint): Promise<bigint> {
    const data = ERC20.encodeFunctionData('transfer', [getAddress(to), amountMinor]);
    try {
      const est = await this.rpc.call('eth_estimateGas', [{ from: getAddress(from), to: this.token, data }], (raw) => big(raw, 'gas estimate'));
      return (est * GAS_ESTIMATE_MARGIN_PCT) / 100n;
    } catch {
      // An estimate fails when the sender's balance is short right now (a sweep's gas is not
      // there yet); a USDT transfer needs well under this.
      return 100_000n;
    }
  }

  async buildTokenTransfer(o: { from: string; to: string; amountMinor: bigint; nonce?: number }): Promise<EvmUnsignedTx> {
    if (o.nonce === undefined) throw new Error('an EVM transaction needs a nonce');
    const [gas, fees] = await Promise.all([this.tokenTransferGas(o.from, o.to, o.amountMinor), this.fees()]);
    return {
      kind: 'evm',
      chainId: String(this.rail.chain_id ?? 1),
      nonce: String(o.nonce),
      to: this.token,
      data: ERC20.encodeFunctionData('transfer', [getAddress(o.to), o.amountMinor]),
      value: '0',
      gasLimit: gas.toString(),
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
    };
  }

  async buildNativeTransfer(o: { from: string; to: string; amountMinor: bigint; nonce?: number }): Promise<EvmUnsignedTx> {
    if (o.nonce === undefined) throw new Error('an EVM transaction needs a nonce');
    const fees = await this.fees();
    return {
      kind: 'evm',
      chainId: String(this.rail.chain_id ?? 1),
      nonce: String(o.nonce),
      to: getAddress(o.to),
      data: '0x',
      value: o.amountMinor.toString(),
      gasLimit: NATIVE_TRANSFER_GAS.toString(),
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
    };
  }

  async broadcast(signed: SignedTx): Promise<void> {
    try {
      await this.rpc.call('eth_sendRawTransaction', [signed.raw], (raw) => raw);
    } catch (err) {
      const msg = (err as Error).message ?? '';
      // The node has it already (a retry after a crash, or another node relayed it): done.
      if (/already known|known transaction|already imported|AlreadyKnown/i.test(msg)) return;
      // The nonce is spent: by this very transaction (mined already) or by another one. The
      // caller tells the two apart by looking the hash up.
      if (/nonce too low|NonceTooLow|nonce.*already been used/i.test(msg)) {
        if (await this.outcome(signed.txHash)) return;
        throw new BroadcastRejectedError(`nonce already used by another transaction: ${msg.slice(0, 200)}`);
      }
      // Several nodes' answers come joined: only a refusal by every one of them is final, since a
      // node that timed out may have taken the transaction after all.
      const REFUSED = /insufficient funds|invalid signature|invalid sender|intrinsic gas|exceeds block gas limit|fee cap less than block base fee/i;
      if (msg.split(' | ').every((part) => REFUSED.test(part))) {
        throw new BroadcastRejectedError(msg.slice(0, 300));
      }
      throw err; // unreachable node and the like: the activity retries
    }
  }

  async outcome(txHash: string): Promise<TxOutcome | null> {
    const receipt = await this.rpc.call('eth_getTransactionReceipt', [txHash], (raw) => raw as null | {
      status?: string; blockNumber?: string; blockHash?: string; gasUsed?: string; effectiveGasPrice?: string; logs?: RawLog[] & Array<{ address?: string }>;
    });
    if (!receipt || !receipt.blockNumber) return null;
    const blockHeight = parseQuantity(receipt.blockNumber, 'receipt block');
    const head = await this.rpc.call('eth_blockNumber', [], (raw) => parseQuantity(raw, 'head height'));
    const transfers: ChainTransfer[] = [];
    for (const log of receipt.logs ?? []) {
      if (typeof log.address !== 'string' || log.address.toLowerCase() !== this.token.toLowerCase()) continue;
      const t = decodeTransferLog(log, (hex) => getAddress('0x' + hex));
      if (t) transfers.push(t);
    }
    const fee = big(receipt.gasUsed, 'gas used') * big(receipt.effectiveGasPrice, 'effective gas price');
    return {
      txHash: txHash.toLowerCase(),
      blockHeight,
      blockHash: String(receipt.blockHash).toLowerCase(),
      executed: receipt.status === '0x1',
      feeMinor: fee.toString(),
      confirmations: Math.max(0, head - blockHeight + 1),
      transfers,
    };
  }

  async tokenBalance(address: string): Promise<bigint> {
    const data = ERC20.encodeFunctionData('balanceOf', [getAddress(address)]);
    return this.rpc.call('eth_call', [{ to: this.token, data }, 'latest'], (raw) => big(raw, 'balanceOf'));
  }

  async nativeBalance(address: string): Promise<bigint> {
    return this.rpc.call('eth_getBalance', [getAddress(address), 'latest'], (raw) => big(raw, 'balance'));
  }

  async estimateTokenTransferFee(o: { from: string; to: string; amountMinor: bigint }): Promise<FeeEstimate> {
    const [gas, fees] = await Promise.all([this.tokenTransferGas(o.from, o.to, o.amountMinor), this.fees()]);
    return {
      nativeAsset: this.nativeAsset,
      nativeDecimals: this.nativeDecimals,
      feeMinor: (gas * fees.maxFeePerGas).toString(),
      detail: { gas_limit: gas.toString(), max_fee_per_gas_wei: fees.maxFeePerGas.toString(), max_priority_fee_per_gas_wei: fees.maxPriorityFeePerGas.toString() },
    };
  }

  close(): void {
    this.rpc.close();
  }
}
