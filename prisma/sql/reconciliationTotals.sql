-- A run's open breaks counted per class and asset, with their drift (actual minus expected, minor units).
-- @param {String} $1:runId
SELECT class, asset, count(*)::int AS breaks, sum(drift_minor)::text AS drift_minor
  FROM reconciliation_breaks WHERE last_run_id = $1 AND status = 'open' GROUP BY class, asset
