// Idempotency-Key on every POST, scoped to the caller. The first request with a key claims
// it (in_flight); the same key and body then replay the stored answer, a different body is
// 422, and a request still in flight is 409. A claim whose process died is taken over after
// its lease with the same resource id, so the retried work converges on the same object.
// A request that ended in a 5xx leaves its claim `failed`: the same body retried resumes its
// resource id, and a corrected body may take the key with a fresh one (the first answer was a
// failure, so nothing was promised under it).
// Raw node-postgres, on an asynchronous-commit pool: a claim and an answer on every POST's path
// (payment creation's included), where Prisma Client's two reads already cost 3.7 % of the
// path's main-thread CPU (docs/benchmarks.md, "What a payment adds is CPU").
import type { Pool } from '../activities/db.js';
import { canonicalJson, sha256Hex } from '../activities/ids.js';
import { ApiError } from './errors.js';

export const IDEMPOTENCY_LEASE_S = 60;
export const IDEMPOTENCY_KEEP_H = 48; // at least the 24 h promised to merchants
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;

export type Claim =
  | { kind: 'claimed'; resourceId: string | null; takeover: boolean }
  | { kind: 'replay'; status: number; body: unknown };

export function requestHash(method: string, path: string, body: unknown): string {
  return sha256Hex(`${method} ${path}\n${canonicalJson(body ?? null)}`);
}

export async function claimIdempotencyKey(pool: Pool, scope: string, key: string, hash: string, resourceId: string | null): Promise<Claim> {
  if (key.length === 0 || key.length > IDEMPOTENCY_KEY_LENGTH_MAX) {
    throw new ApiError(400, 'idempotency_error', 'idempotency_key_invalid', `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_LENGTH_MAX} characters`, 'Idempotency-Key');
  }
  // One statement claims a new key or takes over an abandoned one; anything else is read below.
  // The CTE reads the row as it was before this statement, to tell a resumed claim (same body:
  // keep its resource id, a takeover) from a corrected request after a 5xx (a fresh id).
  const { rows } = await pool.query(
    `WITH before AS (SELECT request_hash FROM idempotency_keys WHERE scope = $1 AND key = $2)
     INSERT INTO idempotency_keys AS k (scope, key, request_hash, state, resource_id, locked_until)
     VALUES ($1, $2, $3, 'in_flight', $4, now() + make_interval(secs => $5))
     ON CONFLICT (scope, key) DO UPDATE SET locked_until = EXCLUDED.locked_until, state = 'in_flight', request_hash = EXCLUDED.request_hash,
         resource_id = CASE WHEN k.request_hash = EXCLUDED.request_hash THEN k.resource_id ELSE EXCLUDED.resource_id END
       WHERE (k.state = 'in_flight' AND k.locked_until < now() AND k.request_hash = EXCLUDED.request_hash) OR k.state = 'failed'
     RETURNING resource_id, (xmax <> 0 AND (SELECT request_hash FROM before) = $3) AS takeover`,
    [scope, key, hash, resourceId, IDEMPOTENCY_LEASE_S],
  );
  if (rows[0]) return { kind: 'claimed', resourceId: rows[0].resource_id, takeover: rows[0].takeover };
  const existing = await pool.query(`SELECT request_hash, state, response_status, response_body FROM idempotency_keys WHERE scope = $1 AND key = $2`, [scope, key]);
  const e = existing.rows[0];
  if (!e) return claimIdempotencyKey(pool, scope, key, hash, resourceId); // deleted meanwhile: claim again
  if (e.request_hash !== hash) {
    throw new ApiError(422, 'idempotency_error', 'idempotency_key_reused', 'This Idempotency-Key was used with a different request body', 'Idempotency-Key');
  }
  if (e.state === 'in_flight') {
    throw new ApiError(409, 'idempotency_error', 'idempotency_request_in_flight', 'A request with this Idempotency-Key is still being processed; retry shortly', 'Idempotency-Key', { 'Retry-After': '1' });
  }
  return { kind: 'replay', status: e.response_status, body: e.response_body };
}

/**
 * Success is remembered; a rejection (4xx) releases the key, so rejected input leaves no row
 * behind; a server failure (5xx) releases the claim as `failed` but keeps its resource id, so
 * the client's retry of the same body resumes the same payment instead of creating a second
 * one, and a corrected body is not locked out for the key's lifetime.
 */
export async function settleIdempotencyKey(pool: Pool, scope: string, key: string, status: number, body: unknown): Promise<void> {
  if (status >= 200 && status < 300) {
    await pool.query(
      `UPDATE idempotency_keys SET state = 'done', response_status = $3, response_body = $4, completed_at = now() WHERE scope = $1 AND key = $2`,
      [scope, key, status, JSON.stringify(body)],
    );
  } else if (status >= 500) {
    await pool.query(`UPDATE idempotency_keys SET state = 'failed', locked_until = now() - interval '1 millisecond' WHERE scope = $1 AND key = $2 AND state = 'in_flight'`, [scope, key]);
  } else {
    await pool.query(`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'in_flight'`, [scope, key]);
  }
}

/** How often an API process deletes expired idempotency keys. */
export const IDEMPOTENCY_PRUNE_INTERVAL_MS = 3_600_000;

export async function pruneIdempotencyKeys(pool: Pool): Promise<number> {
  const r = await pool.query(`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`, [IDEMPOTENCY_KEEP_H]);
  return r.rowCount ?? 0;
}
