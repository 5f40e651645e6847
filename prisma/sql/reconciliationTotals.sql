-- What a run found, counted per class and asset, with the drift it saw (actual minus expected,
-- minor units): from the run's own record, so an overlapping run stamping the same breaks
-- changes nothing here.
-- @param {String} $1:runId
SELECT b.class, b.asset, count(*)::int AS breaks, sum(f.drift_minor)::text AS drift_minor
  FROM reconciliation_run_breaks f JOIN reconciliation_breaks b ON b.id = f.break_id
 WHERE f.run_id = $1 GROUP BY b.class, b.asset
