-- Clear the open breaks this run no longer sees. Only breaks last seen by an older run are
-- cleared: a run that overlaps this one keeps its own.
-- @param {String} $1:runId
-- @param {String} $2:environment
-- @param {String} $3:merchantId? only this merchant's breaks; null for an operator-wide run
UPDATE reconciliation_breaks SET status = 'cleared'
 WHERE status = 'open' AND last_run_id <> $1 AND environment = $2 AND ($3::text IS NULL OR merchant_id = $3)
   AND last_run_id IN (SELECT id FROM reconciliation_runs WHERE started_at < (SELECT started_at FROM reconciliation_runs WHERE id = $1))
