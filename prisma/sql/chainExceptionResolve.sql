-- An operator closes an open chain exception with a resolution and a reason; no row when it is
-- not open (or no such exception). Amounts as decimal strings of minor units.
-- @param {String} $1:id
-- @param {String} $2:resolvedBy
-- @param {String} $3:resolution
-- @param {String} $4:reason
UPDATE chain_exceptions SET status = 'resolved', resolved_by = $2, resolution = $3, reason = $4, resolved_at = date_trunc('milliseconds', clock_timestamp())
 WHERE id = $1 AND status = 'open'
RETURNING id, rail, tx_hash, log_index, code, to_address, amount_minor::text AS amount_minor, payment_id, detail, status, created_at, resolved_by, resolution, reason, resolved_at
