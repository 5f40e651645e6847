// The payout allowlist: a merchant asks for an address; an operator approves (or rejects) it;
// an approved address becomes usable only after a cooling-off delay kept by a durable timer in
// its workflow, so a stolen key cannot add an address and pay out to it at once. Every step is
// evidence.
import type { DbClient, Pool } from './db.js';
import { withTx } from './db.js';
import { railById, type RailConfig, type StablerailConfig } from './config.js';
import { refusalFailure } from './payout.js';
import { appendEvidence } from './evidence.js';
import { newId } from './ids.js';
import { DomainError } from './merchant.js';
import type { PayoutDestinationStatus } from '../workflows/rules/payout-transitions.js';
import type { DestinationView, DestinationWorkflowInput } from '../workflows/payout-shared.js';
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

export async function getDestination(c: Pool | DbClient, id: string): Promise<DestinationRow | undefined> {
  const { rows } = await c.query<DestinationRow>(`SELECT * FROM payout_destinations WHERE id = $1`, [id]);
  return rows[0];
}

export async function insertDestination(pool: Pool, o: { merchantId: string; environment: 'sandbox' | 'live'; rail: RailConfig; address: string; label: string; actor: string; id?: string }): Promise<DestinationRow> {
  const id = o.id ?? newId('pd');
  try {
    return await withTx(pool, async (c) => {
      const { rows } = await c.query<DestinationRow>(
        `INSERT INTO payout_destinations (id, merchant_id, environment, rail, address, label, status, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending_approval', $7) RETURNING *`,
        [id, o.merchantId, o.environment, o.rail.id, o.address, o.label, o.actor],
      );
      await appendEvidence(c, { kind: 'payout_destination.requested', subject: id, actor: o.actor, payload: { merchant_id: o.merchantId, environment: o.environment, rail: o.rail.id, address: o.address, label: o.label }, dedupeKey: `destination:${id}:requested` });
      return rows[0]!;
    });
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new DomainError('destination_exists', `${o.address} is already on this merchant's allowlist for ${o.rail.id} (or awaiting approval)`, 'address', 409);
    throw err;
  }
}

/** An active allowlist entry for this address, or null. */
export async function activeDestination(c: Pool | DbClient, o: { merchantId: string; environment: string; rail: string; idOrAddress: string }): Promise<DestinationRow | null> {
  const { rows } = await c.query<DestinationRow>(
    `SELECT * FROM payout_destinations WHERE merchant_id = $1 AND environment = $2 AND rail = $3 AND (id = $4 OR address = $4) AND status NOT IN ('rejected', 'revoked') LIMIT 1`,
    [o.merchantId, o.environment, o.rail, o.idOrAddress],
  );
  return rows[0] ?? null;
}

export function createDestinationActivities(deps: { pool: Pool; config: StablerailConfig }) {
  return {
    /** The destination workflow's create step, keyed by destination id: a retry answers the first write. */
    async createDestinationRecord(o: { destinationId: string; create: NonNullable<DestinationWorkflowInput['create']> }): Promise<DestinationView> {
      try {
        const existing = await getDestination(deps.pool, o.destinationId);
        if (existing) return destinationObject(existing);
        const rail = railById(deps.config, o.create.rail);
        if (!rail) throw new DomainError('rail_unknown', `rail ${o.create.rail} is not configured`, 'rail');
        return destinationObject(await insertDestination(deps.pool, { ...o.create, rail, id: o.destinationId }));
      } catch (err) {
        // An attempt that timed out may have written it meanwhile: the address then is ours, not taken.
        const mine = err instanceof DomainError && err.code === 'destination_exists' ? await getDestination(deps.pool, o.destinationId) : undefined;
        if (mine) return destinationObject(mine);
        throw refusalFailure(err);
      }
    },

    async recordDestinationDecision(d: { destinationId: string; status: PayoutDestinationStatus; actor: string; reason: string | null; usableAtMs: number | null }): Promise<void> {
      await withTx(deps.pool, async (c) => {
        const upd = await c.query(
          `UPDATE payout_destinations SET status = $2, decided_by = COALESCE($3, decided_by), reason = COALESCE($4, reason), usable_at = COALESCE($5, usable_at), updated_at = now()
            WHERE id = $1 AND status <> $2 AND status NOT IN ('rejected', 'revoked')`,
          [d.destinationId, d.status, d.status === 'active' ? null : d.actor, d.reason, d.usableAtMs === null ? null : new Date(d.usableAtMs)],
        );
        if (upd.rowCount) {
          await appendEvidence(c, { kind: `payout_destination.${d.status}`, subject: d.destinationId, actor: d.actor, payload: { reason: d.reason, usable_at: d.usableAtMs === null ? null : new Date(d.usableAtMs).toISOString() }, dedupeKey: `destination:${d.destinationId}:${d.status}` });
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
        return await withTx(deps.pool, async (c) => {
          const { rows } = await c.query<{ status: string }>(`SELECT status FROM payout_destinations WHERE id = $1 FOR UPDATE`, [o.destinationId]);
          if (!rows[0]) throw new DomainError('resource_missing', `no payout destination ${o.destinationId}`, 'id', 404);
          if (rows[0].status === 'rejected') throw new DomainError('destination_not_revocable', `${o.destinationId} was rejected; there is nothing to revoke`, 'id', 409);
          if (rows[0].status !== 'revoked') {
            await c.query(`UPDATE payout_destinations SET status = 'revoked', decided_by = $2, reason = $3, updated_at = now() WHERE id = $1`, [o.destinationId, o.actor, o.reason]);
            await appendEvidence(c, { kind: 'payout_destination.revoked', subject: o.destinationId, actor: o.actor, payload: { reason: o.reason, was: rows[0].status }, dedupeKey: `destination:${o.destinationId}:revoked` });
          }
          const pending = await c.query<{ id: string }>(`SELECT id FROM payouts WHERE destination_id = $1 AND status IN ('pending_approval', 'approved') ORDER BY created_at`, [o.destinationId]);
          return { pendingPayouts: pending.rows.map((r) => r.id) };
        });
      } catch (err) {
        throw refusalFailure(err);
      }
    },
  };
}

export type DestinationActivities = ReturnType<typeof createDestinationActivities>;
