-- An operator's decision on a break that is not resolved yet (none: it was, or there is no such
-- break); answered in the shape of reconciliationBreaks.sql. A resolved break never reopens.
-- @param {String} $1:id
-- @param {String} $2:resolvedBy
-- @param {String} $3:resolution
-- @param {String} $4:reason
UPDATE reconciliation_breaks SET status = 'resolved', resolved_by = $2, resolution = $3, reason = $4, resolved_at = now()
 WHERE id = $1 AND status <> 'resolved'
RETURNING id, fingerprint, class, environment, merchant_id, order_reference, payment_id, tx_hash, log_index, entry_id, asset,
          expected_minor::text AS expected_minor, actual_minor::text AS actual_minor, drift_minor::text AS drift_minor,
          status, first_run_id, last_run_id, resolved_by, resolution, reason, resolved_at, created_at
