// The sweep workflow (workflow id = sweep id): runs a reviewed plan. Per address: a gas
// top-up from the treasury when the plan says one is needed, confirmed before the deposit key
// signs the token transfer to the treasury; each transaction's fee is posted as it confirms.
// Sends are keyed (sweep:{id}:gas:{index}, sweep:{id}:token:{index}), so a crash or replay
// never sends either twice. Top-ups leave the treasury one at a time (one nonce sequence);
// token transfers leave different deposit addresses and run side by side, a batch at a time.
import { allHandlersFinished, ApplicationFailure, condition, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { SendActivities } from '../activities/chain/send.js';
import type { SweepActivities } from '../activities/sweep.js';
import { executeSweepUpdate, type ExecuteSweepRequest, type SweepItem, type SweepItemResult, type SweepWorkflowInput } from './payout-shared.js';

/** Sweeps since #16 size each top-up when the item runs and retry a failed one once; older histories used the plan's figure. */
export const SWEEP_GAS_AT_EXECUTION_PATCH = 'sweep-gas-at-execution';

/**
 * Sweeps since #11 are started by Update-with-Start: the execute Update's activity marks the
 * sweep running (and its evidence) inside the workflow, so no row says running without one.
 */
export const SWEEP_EXECUTE_UPDATE_PATCH = 'sweep-execute-update';
/** How long a run started without its execute Update waits for it before ending with nothing done. */
const EXECUTE_WAIT = '5 minutes';

/** Addresses whose token transfers are in flight together. */
export const SWEEP_BATCH = 10;

const send = proxyActivities<SendActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20 },
});
const wait = proxyActivities<SendActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const records = proxyActivities<SweepActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export async function sweepWorkflow(input: SweepWorkflowInput): Promise<SweepItemResult[]> {
  if (patched(SWEEP_EXECUTE_UPDATE_PATCH)) {
    let executing: boolean | null = null;
    let executeRequests = 0;
    setHandler(
      executeSweepUpdate,
      async ({ operator }: ExecuteSweepRequest) => {
        // The first request executes; any later one (a second click, another operator) is told
        // the sweep is no longer planned, as a second execute always was.
        const first = executeRequests++ === 0;
        if (first) executing = await records.markSweepExecuting({ sweepId: input.sweepId, operator, runId: workflowInfo().runId });
        if (!first || !executing) throw ApplicationFailure.nonRetryable(`sweep ${input.sweepId} is no longer planned; only a planned sweep can be executed`, 'sweep_not_planned');
        return { status: 'running' as const };
      },
    );
    await condition(() => executing !== null, EXECUTE_WAIT);
    if (!executing) {
      // Refused (the sweep ran before) or never asked: this run did nothing and says so.
      await condition(allHandlersFinished);
      return [];
    }
  }
  const railKind = input.railKind;
  const results = new Map<string, SweepItemResult>();
  const fresh = (i: SweepItem): SweepItemResult => ({ index: i.index, address: i.address, status: 'swept', gasTxHash: null, sweepTxHash: null, feesMinor: '0' });
  const addFee = (r: SweepItemResult, fee: string) => (r.feesMinor = (BigInt(r.feesMinor) + BigInt(fee)).toString());
  const fail = (r: SweepItemResult, err: unknown) => {
    r.status = 'failed';
    r.error = String((err as Error)?.message ?? err).slice(0, 300);
  };

  async function sendAndSettle(r: SweepItemResult, req: Parameters<SendActivities['signTransfer']>[0], what: string): Promise<boolean> {
    const signed = await send.signTransfer(req);
    if (what === 'gas top-up') r.gasTxHash = signed.txHash;
    else r.sweepTxHash = signed.txHash;
    await send.broadcastTransfer({ sendKey: req.sendKey });
    const out = await wait.awaitTransfer({ sendKey: req.sendKey, confirmations: input.confirmationsRequired });
    await records.postSweepFee({ sweepId: input.sweepId, rail: input.rail, environment: input.environment, txHash: out.txHash, feeMinor: out.feeMinor, what });
    addFee(r, out.feeMinor);
    // Judged by the receipt and the Transfer log, never by a return value (USDT returns none or false).
    return req.asset === 'native' ? out.executed : out.executed && out.transfers.some((t) => t.to === input.treasuryAddress && t.amountMinor === req.amountMinor);
  }

  /**
   * Gas for one address, sized now: top up what today's fee needs (bounded against the plan),
   * then size again; a top-up that failed, or one that fell short because fees rose while it
   * confirmed, is retried once with fresh fees under its own send key.
   */
  async function topUpNow(r: SweepItemResult, item: SweepItem): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const size = await records.sizeSweepGas({ sweepId: input.sweepId, index: item.index, address: item.address, amountMinor: item.amountMinor });
      if ('refused' in size) return fail(r, size.refused);
      if (BigInt(size.topUpMinor) === 0n) return;
      if (attempt === 2) return fail(r, 'gas still short after a top-up retried with fresh fees');
      try {
        const ok = await sendAndSettle(r, {
          sendKey: `sweep:${input.sweepId}:gas:${item.index}${attempt ? `:retry${attempt}` : ''}`, rail: input.rail, environment: input.environment, purpose: 'sweep_gas',
          key: { rail: input.rail, kind: railKind, role: 'treasury' }, asset: 'native', to: item.address, amountMinor: size.topUpMinor,
        }, 'gas top-up');
        if (!ok && attempt === 1) return fail(r, 'gas top-up reverted twice');
      } catch (err) {
        if (attempt === 1) return fail(r, err);
      }
    }
  }
  const gasAtExecution = patched(SWEEP_GAS_AT_EXECUTION_PATCH);

  for (let b = 0; b < input.items.length; b += SWEEP_BATCH) {
    const batch = input.items.slice(b, b + SWEEP_BATCH);
    // Gas first, one after the other: they share the treasury's nonce sequence.
    for (const item of batch) {
      const r = fresh(item);
      results.set(item.index, r);
      if (gasAtExecution) {
        await topUpNow(r, item);
        continue;
      }
      if (BigInt(item.gasTopUpMinor) === 0n) continue;
      try {
        const ok = await sendAndSettle(r, {
          sendKey: `sweep:${input.sweepId}:gas:${item.index}`, rail: input.rail, environment: input.environment, purpose: 'sweep_gas',
          key: { rail: input.rail, kind: railKind, role: 'treasury' }, asset: 'native', to: item.address, amountMinor: item.gasTopUpMinor,
        }, 'gas top-up');
        if (!ok) fail(r, 'gas top-up reverted');
      } catch (err) {
        fail(r, err);
      }
    }
    await Promise.all(
      batch.map(async (item) => {
        const r = results.get(item.index)!;
        if (r.status === 'failed') return;
        try {
          const ok = await sendAndSettle(r, {
            sendKey: `sweep:${input.sweepId}:token:${item.index}`, rail: input.rail, environment: input.environment, purpose: 'sweep',
            key: { rail: input.rail, kind: railKind, role: 'deposit', index: item.index }, asset: 'token', to: input.treasuryAddress,
            amountMinor: item.amountMinor, expectFrom: item.address,
          }, 'token transfer');
          if (!ok) fail(r, 'token transfer reverted or left no Transfer log');
        } catch (err) {
          fail(r, err);
        }
      }),
    );
  }
  const out = input.items.map((i) => results.get(i.index)!);
  await records.finishSweep({ sweepId: input.sweepId, items: out });
  return out;
}
