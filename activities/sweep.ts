// Sweeps: consolidate the token from many deposit addresses into the rail's treasury address.
// A deposit address holds the token but none of the native asset its transfer must pay for,
// so the plan says, per address, how much gas (EVM: ETH; TRON: TRX burned for energy and
// bandwidth) the treasury first sends it, and what the whole sweep will cost, before anything
// runs. Every network fee is posted in the native asset to the network-fee account.
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from './db.js';
import { withPrismaTx, withTx } from './db.js';
import type { Prisma, Sweep } from '../generated/prisma/client.js';
import * as sweeps from './repositories/sweeps.js';
import { decimalsOfAsset, nativeAssetOf, railById, type RailConfig, type StablerailConfig } from './config.js';
import { appendEvidence } from './evidence.js';
import { newId } from './ids.js';
import { postEntries } from './ledger.js';
import { DomainError } from './merchant.js';
import { formatAmount } from '../workflows/rules/money.js';
import { networkFeePosting } from './payout.js';
import type { RailSenders } from './chain/senders.js';
import { NATIVE_TRANSFER_GAS } from './chain/evm-sender.js';
import type { Signer } from './signer/signer.js';
import type { SweepItem, SweepItemResult } from '../workflows/payout-shared.js';

/** One sweep touches at most this many addresses; a larger backlog is several sweeps. */
export const SWEEP_ADDRESSES_MAX = 200;
/** A TRX transfer is about 270 bytes; burned at 1,000 sun per byte without free bandwidth. */
const TRX_TRANSFER_BANDWIDTH_FEE_SUN = 300_000n;
/**
 * Gas for a sweep's token transfer is sized when the item runs, not when it was planned: the
 * fee estimate then (which already allows the base fee to double), plus this much headroom.
 */
export const SWEEP_GAS_HEADROOM_PCT = 25n;
/** The bound on that: never more than this many times the fee the operator saw in the plan. */
export const SWEEP_GAS_BOUND_FACTOR = 10n;

/**
 * The native amount a deposit address still needs before its token transfer, from the fee
 * estimate now. Pure: the bound is checked here and a refusal names it.
 */
export function gasTopUpNow(o: { feeNowMinor: bigint; nativeBalanceMinor: bigint; plannedFeeMinor: bigint }): { topUpMinor: bigint } | { refused: string } {
  const want = (o.feeNowMinor * (100n + SWEEP_GAS_HEADROOM_PCT)) / 100n;
  if (o.plannedFeeMinor > 0n && o.feeNowMinor > o.plannedFeeMinor * SWEEP_GAS_BOUND_FACTOR) {
    return { refused: `gas_price_above_bound: the transfer would cost ${o.feeNowMinor}, over ${SWEEP_GAS_BOUND_FACTOR}× the planned ${o.plannedFeeMinor}; plan the sweep again` };
  }
  // Enough already for today's fee itself: no top-up (the headroom is for a top-up's own wait).
  if (o.nativeBalanceMinor >= o.feeNowMinor) return { topUpMinor: 0n };
  return { topUpMinor: want - o.nativeBalanceMinor };
}

/** Balance reads in flight at once while planning. */
const PLAN_READS_PARALLEL = 8;

export interface SweepPlanItem extends SweepItem {
  /** What the token transfer from this address may cost, in native minor units. */
  transferFeeMinor: string;
  /** What the treasury's gas top-up transaction may cost (0 when none is needed). */
  topUpFeeMinor: string;
  feeDetail: Record<string, string>;
}

export interface SweepPlan {
  rail: string;
  asset: string;
  native_asset: string;
  treasury_address: string;
  min_amount_minor: string;
  items: SweepPlanItem[];
  total_amount_minor: string;
  total_fee_minor: string;
  total_gas_top_up_minor: string;
  /** How gas reaches the deposit addresses, in words, for the operator reading the plan. */
  gas_strategy: string;
}

export interface SweepRow {
  id: string;
  environment: 'sandbox' | 'live';
  rail: string;
  treasury_address: string;
  status: 'planned' | 'running' | 'completed' | 'failed' | 'canceled';
  plan: SweepPlan;
  result: { items: SweepItemResult[]; fees_minor: string } | null;
  planned_by: string;
  executed_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export function sweepObject(r: SweepRow, config: StablerailConfig) {
  const rail = railById(config, r.rail);
  const dec = rail?.decimals ?? 6;
  const nativeDec = decimalsOfAsset(config, r.plan.native_asset);
  const fmt = (v: string, d: number) => formatAmount(BigInt(v), d);
  return {
    id: r.id,
    object: 'sweep' as const,
    environment: r.environment,
    rail: r.rail,
    status: r.status,
    treasury_address: r.treasury_address,
    asset: r.plan.asset,
    native_asset: r.plan.native_asset,
    total_amount: fmt(r.plan.total_amount_minor, dec),
    estimated_fee: fmt(r.plan.total_fee_minor, nativeDec),
    gas_top_up: fmt(r.plan.total_gas_top_up_minor, nativeDec),
    gas_strategy: r.plan.gas_strategy,
    items: r.plan.items.map((i) => ({
      address: i.address,
      address_index: i.index,
      amount: fmt(i.amountMinor, dec),
      gas_top_up: fmt(i.gasTopUpMinor, nativeDec),
      estimated_fee: fmt((BigInt(i.transferFeeMinor) + BigInt(i.topUpFeeMinor)).toString(), nativeDec),
      fee_detail: i.feeDetail,
      result: (() => {
        const x = r.result?.items.find((y) => y.index === i.index);
        return x ? { status: x.status, gas_tx_hash: x.gasTxHash, sweep_tx_hash: x.sweepTxHash, fee_paid: fmt(x.feesMinor, nativeDec), error: x.error ?? null } : null;
      })(),
    })),
    fees_paid: r.result ? fmt(r.result.fees_minor, nativeDec) : null,
    planned_by: r.planned_by,
    executed_by: r.executed_by,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

/** Prisma's model in the row shape the sweep object reads. */
function sweepRowOf(s: Sweep): SweepRow {
  return {
    id: s.id, environment: s.environment as SweepRow['environment'], rail: s.rail, treasury_address: s.treasuryAddress, status: s.status as SweepRow['status'],
    plan: s.plan as unknown as SweepPlan, result: s.result as unknown as SweepRow['result'], planned_by: s.plannedBy, executed_by: s.executedBy,
    created_at: s.createdAt, updated_at: s.updatedAt,
  };
}

export async function getSweep(pool: Pool, id: string): Promise<SweepRow | undefined> {
  const s = await sweeps.findSweep(pool, id);
  return s ? sweepRowOf(s) : undefined;
}

const GAS_STRATEGY: Record<RailConfig['kind'], string> = {
  evm:
    'A deposit address holds no ETH. The treasury first sends each one exactly the ETH its token transfer may burn (gas limit × max fee per gas) less what it already holds, waits for that to confirm, then the deposit key signs transfer(treasury, balance). Unspent ETH stays on the deposit address and is used by its next sweep.',
  tron:
    'A TRC20 transfer costs energy (about 65,000, or 130,000 when the recipient holds none of the token) and bandwidth (about 345 bytes). A deposit address has neither staked nor delegated, so the treasury sends it the TRX to burn for both (fee_limit), then the deposit key signs transfer(treasury, balance). Delegating energy from a staking account instead would cost no TRX per sweep; it is not automated here.',
};

/** Read balances and fees and write a plan an operator reviews before executing it. */
export async function planSweep(
  deps: { pool: Pool; config: StablerailConfig; senders: RailSenders; signer: Signer | null },
  o: { environment: 'sandbox' | 'live'; rail: string; minAmountMinor: bigint; operator: string; maxAddresses?: number },
): Promise<SweepRow> {
  const rail = railById(deps.config, o.rail);
  if (!rail || !rail.environments.includes(o.environment)) throw new DomainError('rail_unknown', `No rail ${o.rail} is configured for ${o.environment}`, 'rail');
  if (!deps.signer) throw new DomainError('signer_not_configured', 'No signer is configured (payouts.signer): sweeps cannot run', undefined, 503);
  const sender = deps.senders.get(rail);
  const treasury = await deps.signer.address({ rail: rail.id, kind: rail.kind, role: 'treasury' });
  const limit = Math.min(o.maxAddresses ?? SWEEP_ADDRESSES_MAX, SWEEP_ADDRESSES_MAX);
  // Addresses that ever received the token in this environment (or unmatched): the only ones that can hold it.
  const candidates = await sweeps.candidateAddresses(deps.pool, rail.id, o.environment, limit);
  const items: SweepPlanItem[] = [];
  for (let i = 0; i < candidates.length; i += PLAN_READS_PARALLEL) {
    const chunk = await Promise.all(
      candidates.slice(i, i + PLAN_READS_PARALLEL).map(async (c) => {
        const balance = await sender.tokenBalance(c.address);
        if (balance === 0n || balance < o.minAmountMinor) return null;
        const [fee, native] = await Promise.all([sender.estimateTokenTransferFee({ from: c.address, to: treasury, amountMinor: balance }), sender.nativeBalance(c.address)]);
        const need = BigInt(fee.feeMinor);
        const topUp = need > native ? need - native : 0n;
        // The top-up itself: a plain ETH transfer is 21,000 gas; a TRX transfer burns its bandwidth.
        const topUpFee = topUp === 0n ? 0n : rail.kind === 'evm' ? NATIVE_TRANSFER_GAS * BigInt(fee.detail.max_fee_per_gas_wei ?? '0') : TRX_TRANSFER_BANDWIDTH_FEE_SUN;
        return { index: c.address_index!, address: c.address, amountMinor: balance.toString(), gasTopUpMinor: topUp.toString(), transferFeeMinor: need.toString(), topUpFeeMinor: topUpFee.toString(), feeDetail: fee.detail } satisfies SweepPlanItem;
      }),
    );
    for (const it of chunk) if (it) items.push(it);
  }
  const sum = (f: (i: SweepPlanItem) => string) => items.reduce((s, i) => s + BigInt(f(i)), 0n).toString();
  const plan: SweepPlan = {
    rail: rail.id,
    asset: rail.asset,
    native_asset: nativeAssetOf(rail),
    treasury_address: treasury,
    min_amount_minor: o.minAmountMinor.toString(),
    items,
    total_amount_minor: sum((i) => i.amountMinor),
    total_fee_minor: (BigInt(sum((i) => i.transferFeeMinor)) + BigInt(sum((i) => i.topUpFeeMinor))).toString(),
    total_gas_top_up_minor: sum((i) => i.gasTopUpMinor),
    gas_strategy: GAS_STRATEGY[rail.kind],
  };
  const id = newId('sw');
  return withPrismaTx(deps.pool, async (tx) => {
    const row = await sweeps.insertSweep(tx, { id, environment: o.environment, rail: rail.id, treasuryAddress: treasury, plan: plan as unknown as Prisma.InputJsonValue, plannedBy: o.operator });
    await appendEvidence(tx, { kind: 'sweep.planned', subject: id, actor: o.operator, payload: { rail: rail.id, addresses: items.length, total_amount_minor: plan.total_amount_minor, total_fee_minor: plan.total_fee_minor }, dedupeKey: `sweep:${id}:planned` });
    return sweepRowOf(row);
  });
}

/** planned → running, once: a second execute of the same plan is refused. */
/**
 * planned → running, with its evidence entry, for the sweep workflow run `runId` (first one
 * wins). A retry of the same run after its commit finds its own run id in the evidence and
 * answers true again; any other run (a second execute after the sweep ended) answers false.
 */
export async function markSweepRunning(pool: Pool, id: string, operator: string, runId: string): Promise<boolean> {
  return withPrismaTx(pool, async (tx) => {
    if (await sweeps.markRunning(tx, id, operator)) {
      await appendEvidence(tx, { kind: 'sweep.executed', subject: id, actor: operator, payload: { run_id: runId }, dedupeKey: `sweep:${id}:executed` });
      return true;
    }
    return (await sweeps.executedByRun(tx, id)) === runId;
  });
}

export function createSweepActivities(deps: { pool: Pool; config: StablerailConfig; senders: RailSenders; signer: Signer | null }) {
  return {
    /** The execute decision, recorded by the sweep workflow's Update (the API writes no row). */
    async markSweepExecuting(o: { sweepId: string; operator: string; runId: string }): Promise<boolean> {
      return markSweepRunning(deps.pool, o.sweepId, o.operator, o.runId);
    },

    /** Plan a sweep (reads the chain, asks the signer): answers the sweep id. A refusal is typed, not retried. */
    async planSweepActivity(o: { environment: 'sandbox' | 'live'; rail: string; minAmountMinor: string; operator: string }): Promise<string> {
      try {
        return (await planSweep(deps, { environment: o.environment, rail: o.rail, minAmountMinor: BigInt(o.minAmountMinor), operator: o.operator })).id;
      } catch (err) {
        if (err instanceof DomainError) throw ApplicationFailure.nonRetryable(err.message, err.code);
        throw err;
      }
    },
    /**
     * Right before an item's gas top-up (and again after it confirms): what the deposit address
     * needs now, from the fee market now, bounded against the plan.
     */
    async sizeSweepGas(o: { sweepId: string; index: string; address: string; amountMinor: string }): Promise<{ topUpMinor: string } | { refused: string }> {
      const sweep = await getSweep(deps.pool, o.sweepId);
      if (!sweep) throw ApplicationFailure.nonRetryable(`no sweep ${o.sweepId}`, 'sweep_missing');
      const rail = railById(deps.config, sweep.plan.rail);
      if (!rail) throw ApplicationFailure.nonRetryable(`rail ${sweep.plan.rail} is not configured`, 'rail_unknown');
      const planned = sweep.plan.items.find((i) => i.index === o.index);
      const sender = deps.senders.get(rail);
      const [fee, native] = await Promise.all([
        sender.estimateTokenTransferFee({ from: o.address, to: sweep.plan.treasury_address, amountMinor: BigInt(o.amountMinor) }),
        sender.nativeBalance(o.address),
      ]);
      const r = gasTopUpNow({ feeNowMinor: BigInt(fee.feeMinor), nativeBalanceMinor: native, plannedFeeMinor: BigInt(planned?.transferFeeMinor ?? '0') });
      return 'refused' in r ? r : { topUpMinor: r.topUpMinor.toString() };
    },

    /** Post one sweep transaction's network fee (gas top-up or token transfer). Keyed by tx hash. */
    async postSweepFee(o: { sweepId: string; rail: string; environment: 'sandbox' | 'live'; txHash: string; feeMinor: string; what: string }): Promise<void> {
      const rail = railById(deps.config, o.rail);
      if (!rail || BigInt(o.feeMinor) === 0n) return;
      await withTx(deps.pool, (c) => postEntries(c, [networkFeePosting(o.environment, rail, nativeAssetOf(rail), BigInt(o.feeMinor), o.txHash, `sweep ${o.sweepId} ${o.what}`)]));
    },
    async finishSweep(o: { sweepId: string; items: SweepItemResult[] }): Promise<void> {
      const fees = o.items.reduce((s, i) => s + BigInt(i.feesMinor), 0n);
      const status = o.items.every((i) => i.status === 'swept') ? 'completed' : 'failed';
      await withPrismaTx(deps.pool, async (tx) => {
        await sweeps.finishRunning(tx, o.sweepId, status, { items: o.items, fees_minor: fees.toString() } as unknown as Prisma.InputJsonValue);
        await appendEvidence(tx, { kind: `sweep.${status}`, subject: o.sweepId, actor: 'system', payload: { swept: o.items.filter((i) => i.status === 'swept').length, failed: o.items.filter((i) => i.status === 'failed').length, fees_minor: fees.toString() }, dedupeKey: `sweep:${o.sweepId}:finished` });
      });
    },
  };
}

export type SweepActivities = ReturnType<typeof createSweepActivities>;
