-- Retention: the oldest scheduled runs of an environment that started before the cutoff, with
-- their reports (reconciliation_run_breaks), at most $3 runs. Runs an operator, a merchant or
-- the CLI started are kept: someone asked for them. Breaks themselves are kept.
-- @param {String} $1:environment
-- @param {DateTime} $2:before
-- @param {Int} $3:limit
WITH doomed AS (
  SELECT id, started_at FROM reconciliation_runs
   WHERE environment = $1 AND trigger = 'schedule' AND status <> 'running' AND started_at < $2
   ORDER BY started_at LIMIT $3
), reports AS (
  DELETE FROM reconciliation_run_breaks f USING doomed d WHERE f.run_id = d.id RETURNING 1
), runs AS (
  DELETE FROM reconciliation_runs r USING doomed d WHERE r.id = d.id RETURNING r.id, r.started_at
)
SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM reports)::int AS report_rows,
       (SELECT min(id) FROM runs) AS first_id, (SELECT max(started_at) FROM runs) AS newest_started_at
