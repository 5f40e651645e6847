// The payout allowlist: a merchant asks for an address; an operator approves (or rejects) it;
// an approved address becomes usable only after a cooling-off delay kept by a durable timer in
// its workflow, so a stolen key cannot add an address and pay out to it at once. Every step is
// evidence.
import type { Pool } from './db.js';
import { withPrismaTx } from './db.js';
import { railById, type RailConfig, type StablerailConfig } from './config.js';
import { refusalFailure } from './payout.js';
import { appendEvidence } from './evidence.js';
import { newId } from './ids.js';
import { DomainError } from './merchant.js';
import type { PayoutDestinationStatus } from '../workflows/rules/payout-transitions.js';
import type { DestinationView, DestinationWorkflowInput } from '../workflows/payout-shared.js';
import * as records from './repositories/payouts.js';
import type { DestinationRow } from './repositories/payouts.js';

export type { DestinationRow };

export function destinationObject(r: DestinationRow): DestinationView {
  return {
    id: r.id,
    object: 'payout_destination',
    livemode: r.environment === 'live',
    rail: r.rail,
    address: r.address,
    label: r.label,
    status: r.status,
    usable_at: r.usable_at?.toISOString() ?? null,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

export const getDestination = (pool: Pool, id: string): Promise<DestinationRow | undefined> => records.findDestination(pool, id);

export async function insertDestination(pool: Pool, o: { merchantId: string; environment: 'sandbox' | 'live'; rail: RailConfig; address: string; label: string; actor: string; id?: string }): Promise<DestinationRow> {
  const id = o.id ?? newId('pd');
  try {
    return await withPrismaTx(pool, async (tx) => {
      const row = await records.insertDestinationRow(tx, { id, merchantId: o.merchantId, environment: o.environment, rail: o.rail.id, address: o.address, label: o.label, requestedBy: o.actor });
      await appendEvidence(tx, { kind: 'payout_destination.requested', subject: id, actor: o.actor, payload: { merchant_id: o.merchantId, environment: o.environment, rail: o.rail.id, address: o.address, label: o.label }, dedupeKey: `destination:${id}:requested` });
      return row;
    });
  } catch (err) {
    // P2002: Prisma's unique-constraint violation (the one live entry per address).
    if ((err as { code?: string }).code === 'P2002') throw new DomainError('destination_exists', `${o.address} is already on this merchant's allowlist for ${o.rail.id} (or awaiting approval)`, 'address', 409);
    throw err;
  }
}

/** An active allowlist entry for this address, or null. */
export const activeDestination = (pool: Pool, o: { merchantId: string; environment: string; rail: string; idOrAddress: string }): Promise<DestinationRow | null> => records.liveDestination(pool, o);

export function createDestinationActivities(deps: { pool: Pool; config: StablerailConfig }) {
  return {
    /** The destination workflow's create step, keyed by destination id: a retry answers the first write. */
    async createDestinationRecord(o: { destinationId: string; create: NonNullable<DestinationWorkflowInput['create']> }): Promise<DestinationView> {
      try {
        const existing = await getDestination(deps.pool, o.destinationId);
        if (existing) return destinationObject(existing);
        const rail = railById(deps.config, o.create.rail);
        if (!rail) throw new DomainError('rail_unknown', `rail ${o.create.rail} is not configured`, 'rail');
        if (await records.isDepositAddress(deps.pool, deps.config.rails, o.create.address)) {
          throw new DomainError('destination_is_deposit_address', `${o.create.address} is a Stablerail deposit address: payouts go to addresses outside the platform`, 'address', 400);
        }
        return destinationObject(await insertDestination(deps.pool, { ...o.create, rail, id: o.destinationId }));
      } catch (err) {
        // An attempt that timed out may have written it meanwhile: the address then is ours, not taken.
        const mine = err instanceof DomainError && err.code === 'destination_exists' ? await getDestination(deps.pool, o.destinationId) : undefined;
        if (mine) return destinationObject(mine);
        throw refusalFailure(err);
      }
    },

    async recordDestinationDecision(d: { destinationId: string; status: PayoutDestinationStatus; actor: string; reason: string | null; usableAtMs: number | null }): Promise<void> {
      await withPrismaTx(deps.pool, async (tx) => {
        const moved = await records.decideDestination(tx, d.destinationId, { status: d.status, decidedBy: d.status === 'active' ? null : d.actor, reason: d.reason, usableAt: d.usableAtMs === null ? null : new Date(d.usableAtMs) });
        if (moved) {
          await appendEvidence(tx, { kind: `payout_destination.${d.status}`, subject: d.destinationId, actor: d.actor, payload: { reason: d.reason, usable_at: d.usableAtMs === null ? null : new Date(d.usableAtMs).toISOString() }, dedupeKey: `destination:${d.destinationId}:${d.status}` });
        }
      });
    },

    /**
     * Revoke an allowlist entry (awaiting approval, cooling off or active): no payout can be
     * created to it from the moment this commits (the create step reads the row under a share
     * lock), and the ids of its payouts not yet signed are answered for the workflow to cancel.
     */
    async revokeDestinationRecord(o: { destinationId: string; actor: string; reason: string }): Promise<{ pendingPayouts: string[] }> {
      try {
        return await withPrismaTx(deps.pool, async (tx) => {
          const status = await records.lockDestinationStatus(tx, o.destinationId);
          if (!status) throw new DomainError('resource_missing', `no payout destination ${o.destinationId}`, 'id', 404);
          if (status === 'rejected') throw new DomainError('destination_not_revocable', `${o.destinationId} was rejected; there is nothing to revoke`, 'id', 409);
          if (status !== 'revoked') {
            await records.revokeDestinationRow(tx, o.destinationId, o.actor, o.reason);
            await appendEvidence(tx, { kind: 'payout_destination.revoked', subject: o.destinationId, actor: o.actor, payload: { reason: o.reason, was: status }, dedupeKey: `destination:${o.destinationId}:revoked` });
          }
          return { pendingPayouts: await records.unsignedPayoutsTo(tx, o.destinationId) };
        });
      } catch (err) {
        throw refusalFailure(err);
      }
    },
  };
}

export type DestinationActivities = ReturnType<typeof createDestinationActivities>;
