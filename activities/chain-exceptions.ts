// Chain exceptions for operators: money on chain that matched no open payment (unmatched, or
// reaching a payment after it closed). Listing them, and closing one with a resolution and a
// reason, recorded as evidence in the same transaction. A resolution is a decision on the record:
// money sent back or credited is its own payout or posting.
import type { Pool } from './db.js';
import { withTx } from './db.js';
import { appendEvidence } from './evidence.js';
import type { StablerailConfig } from './config.js';
import { railById } from './config.js';
import { formatAmount } from '../workflows/rules/money.js';
import * as repo from './repositories/chain-exceptions.js';

export const CHAIN_EXCEPTION_RESOLUTIONS = ['returned', 'credited', 'written_off', 'false_positive'] as const;

/** The API object of an exception, from either the Prisma model or the resolve statement's row. */
export function chainExceptionObject(config: StablerailConfig, e: repo.ChainException | repo.ResolvedChainException) {
  const m = 'txHash' in e ? e : null;
  const r = 'tx_hash' in e ? e : null;
  const rail = e.rail;
  const decimals = railById(config, rail)?.decimals ?? 0;
  const amountMinor = m ? m.amountMinor.toFixed(0) : r!.amount_minor!;
  const time = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);
  return {
    id: e.id,
    object: 'chain_exception',
    code: e.code,
    status: e.status,
    rail,
    tx_hash: m ? m.txHash : r!.tx_hash,
    log_index: m ? m.logIndex : r!.log_index,
    to_address: m ? m.toAddress : r!.to_address,
    amount: formatAmount(BigInt(amountMinor), decimals),
    amount_minor: amountMinor,
    payment_id: m ? m.paymentId : r!.payment_id,
    detail: e.detail,
    created_at: time(m ? m.createdAt : r!.created_at),
    resolution: (m ? m.resolution : r!.resolution) ?? null,
    resolved_by: (m ? m.resolvedBy : r!.resolved_by) ?? null,
    reason: (m ? m.reason : r!.reason) ?? null,
    resolved_at: time(m ? m.resolvedAt : r!.resolved_at),
  };
}

export function listChainExceptions(pool: Pool, status: string) {
  return repo.chainExceptionsInStatus(pool, status, repo.CHAIN_EXCEPTIONS_LISTED_MAX + 1);
}

/** An operator closes an open exception; undefined when it is not open. Evidence names them. */
export async function resolveChainException(pool: Pool, id: string, operator: string, resolution: string, reason: string) {
  return withTx(pool, async (c) => {
    const e = await repo.resolveOpenChainException(c, id, { resolvedBy: operator, resolution, reason });
    if (!e) return undefined;
    await appendEvidence(c, {
      kind: 'chain_exception.resolved',
      subject: e.payment_id ?? e.id!,
      actor: operator,
      payload: { exception_id: id, code: e.code, rail: e.rail, tx_hash: e.tx_hash, log_index: e.log_index, amount_minor: e.amount_minor, resolution, reason },
      dedupeKey: `chain_exception:${id}:resolved`,
    });
    return e;
  });
}
