-- Breaks as the API shows them: what a run found ($1 set; the amounts it saw, the break's
-- status now), or the operators' queue of every break in a status, newest first. Amounts as
-- decimal strings of minor units (never floats).
-- @param {String} $1:runId? this run's breaks; null for the queue
-- @param {String} $2:status? the queue's status (with $1 null)
-- @param {Int} $3:limit
-- @param {String} $4:startingAfter? the queue's previous page ended with this break (keyset paging)
SELECT b.id, b.fingerprint, b.class, b.environment, b.merchant_id, b.order_reference, b.payment_id, b.tx_hash, b.log_index, b.entry_id, b.asset,
       COALESCE(f.expected_minor, b.expected_minor)::text AS expected_minor, COALESCE(f.actual_minor, b.actual_minor)::text AS actual_minor,
       COALESCE(f.drift_minor, b.drift_minor)::text AS drift_minor,
       b.status, b.first_run_id, b.last_run_id, b.resolved_by, b.resolution, b.reason, b.resolved_at, b.created_at
  FROM reconciliation_breaks b
  LEFT JOIN reconciliation_run_breaks f ON f.run_id = $1 AND f.break_id = b.id
 WHERE ($1::text IS NOT NULL AND f.run_id IS NOT NULL)
    OR ($1::text IS NULL AND b.status = $2
        AND ($4::text IS NULL OR (b.created_at, b.id) < (SELECT c.created_at, c.id FROM reconciliation_breaks c WHERE c.id = $4)))
 ORDER BY CASE WHEN $1::text IS NULL THEN b.created_at END DESC, CASE WHEN $1::text IS NULL THEN b.id END DESC, b.class, b.fingerprint
 LIMIT $3
