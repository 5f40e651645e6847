-- Runs as the API shows them, newest first: one run ($1 set) or the latest ones; a merchant
-- sees only its own.
-- @param {String} $1:runId? this run; null for the latest runs
-- @param {String} $2:merchantId? the caller's merchant; null for an operator
-- @param {Int} $3:limit
-- @param {String} $4:startingAfter? the run the previous page ended with (keyset paging)
SELECT id, environment, merchant_id, status, trigger, requested_by, progress, summary, started_at, finished_at
  FROM reconciliation_runs
 WHERE ($1::text IS NULL OR id = $1) AND ($2::text IS NULL OR merchant_id = $2)
   AND ($4::text IS NULL OR (started_at, id) < (SELECT c.started_at, c.id FROM reconciliation_runs c WHERE c.id = $4))
 ORDER BY started_at DESC, id DESC LIMIT $3
