-- A run's end: `completed` with its summary, or `failed` with `{"error": …}`; stamped by the database's clock like its start.
-- @param {String} $1:runId
-- @param {String} $2:status
-- @param {Json} $3:summary
UPDATE reconciliation_runs SET status = $2, summary = $3::jsonb, finished_at = now() WHERE id = $1
