-- Breaks as the API shows them: a run's open breaks ($1 set), or the operators' queue of every
-- break in a status, newest first. Amounts as decimal strings of minor units (never floats).
-- @param {String} $1:runId? this run's open breaks; null for the queue
-- @param {String} $2:status? the queue's status (with $1 null)
-- @param {Int} $3:limit
SELECT id, fingerprint, class, environment, merchant_id, order_reference, payment_id, tx_hash, log_index, entry_id, asset,
       expected_minor::text AS expected_minor, actual_minor::text AS actual_minor, drift_minor::text AS drift_minor,
       status, first_run_id, last_run_id, resolved_by, resolution, reason, resolved_at, created_at
  FROM reconciliation_breaks
 WHERE ($1::text IS NOT NULL AND last_run_id = $1 AND status = 'open') OR ($1::text IS NULL AND status = $2)
 ORDER BY CASE WHEN $1::text IS NULL THEN created_at END DESC, class, fingerprint
 LIMIT $3
