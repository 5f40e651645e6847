// Chain exceptions for operators: money on chain that matched no open payment (unmatched, or
// reaching a payment after it closed). Listing them, and closing one with a resolution and a
// reason, recorded as evidence in the same transaction. A resolution is a decision on the record:
// money sent back or credited is its own payout or posting.
import type { DbClient, Pool } from './db.js';
import { withPrismaTx } from './db.js';
import { appendEvidence } from './evidence.js';
import type { StablerailConfig } from './config.js';
import { railById } from './config.js';
import { formatAmount } from '../workflows/rules/money.js';
import * as repo from './repositories/chain-exceptions.js';
import { insertException } from './repositories/chain-watch.js';
import { newId } from './ids.js';

/**
 * Money on chain that matched no open payment, recorded once per transfer and code with its
 * evidence entry, in the caller's transaction: by the watcher (no payment, or its workflow ended)
 * and by a closed payment's workflow (late money). One dedupe key for both, so whichever sees the
 * transfer first records it and the other records nothing. True when this call recorded it.
 */
export async function recordChainException(c: DbClient, e: { rail: string; txHash: string; logIndex: number; to: string; amountMinor: bigint | string; code: string; paymentId: string | null; actor: string; detail: Record<string, unknown> }): Promise<boolean> {
  const id = newId('cex');
  const amountMinor = e.amountMinor.toString();
  if (!(await insertException(c, { id, rail: e.rail, txHash: e.txHash, logIndex: e.logIndex, code: e.code, to: e.to, amountMinor, paymentId: e.paymentId, detail: e.detail }))) return false;
  await appendEvidence(c, {
    kind: 'chain.exception',
    subject: id,
    actor: e.actor,
    payload: { code: e.code, rail: e.rail, tx_hash: e.txHash, log_index: e.logIndex, to: e.to, amount_minor: amountMinor, payment_id: e.paymentId, ...e.detail },
    dedupeKey: `chain_exception:${e.rail}:${e.txHash}:${e.logIndex}:${e.code}`,
  });
  return true;
}

export const CHAIN_EXCEPTION_RESOLUTIONS = ['returned', 'credited', 'written_off', 'false_positive'] as const;

/** The API object of an exception. */
export function chainExceptionObject(config: StablerailConfig, e: repo.ChainException) {
  const decimals = railById(config, e.rail)?.decimals ?? 0;
  const amountMinor = e.amountMinor.toFixed(0);
  return {
    id: e.id,
    object: 'chain_exception',
    code: e.code,
    status: e.status,
    rail: e.rail,
    tx_hash: e.txHash,
    log_index: e.logIndex,
    to_address: e.toAddress,
    amount: formatAmount(BigInt(amountMinor), decimals),
    amount_minor: amountMinor,
    payment_id: e.paymentId,
    detail: e.detail,
    created_at: e.createdAt.toISOString(),
    resolution: e.resolution,
    resolved_by: e.resolvedBy,
    reason: e.reason,
    resolved_at: e.resolvedAt?.toISOString() ?? null,
  };
}

/** One page of the operators' queue: up to `limit` plus one (the extra says there is more); null when the cursor names no exception. */
export async function listChainExceptions(pool: Pool, status: string, page: { limit: number; startingAfter: string | null }) {
  const after = page.startingAfter ? await repo.chainExceptionById(pool, page.startingAfter) : null;
  if (page.startingAfter && !after) return null;
  return repo.chainExceptionsInStatus(pool, status, page.limit + 1, after);
}

/** An operator closes an open exception; null when it is not open. Evidence names them. */
export async function resolveChainException(pool: Pool, id: string, operator: string, resolution: string, reason: string) {
  return withPrismaTx(pool, async (tx) => {
    const e = await repo.resolveOpenChainException(tx, id, { resolvedBy: operator, resolution, reason });
    if (!e) return null;
    await appendEvidence(tx, {
      kind: 'chain_exception.resolved',
      subject: e.paymentId ?? e.id,
      actor: operator,
      payload: { exception_id: id, code: e.code, rail: e.rail, tx_hash: e.txHash, log_index: e.logIndex, amount_minor: e.amountMinor.toFixed(0), resolution, reason },
      dedupeKey: `chain_exception:${id}:resolved`,
    });
    return e;
  });
}
