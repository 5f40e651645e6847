-- These payments' chain views are to be recomputed (created at version 0 the first time).
-- @param {String} $1:rail
-- @param $2:paymentIds
WITH touched AS (
  INSERT INTO payment_chain_views (payment_id, rail, version, digest, settled)
  SELECT pid, $1, 0, '', false FROM unnest($2::text[]) AS u(pid)
  ON CONFLICT (payment_id) DO UPDATE SET settled = false
  RETURNING 1
)
SELECT count(*)::int AS touched FROM touched
