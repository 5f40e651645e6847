-- Mark reconciled the payments whose workflow acknowledged the run, and record on the run how
-- many did and did not, in one statement.
-- @param {String} $1:runId
-- @param $2:paymentIds the payments that acknowledged
-- @param {Int} $3:unacknowledged
WITH marked AS (
  UPDATE payments SET reconciled_at = now() WHERE id = ANY($2::text[]) AND reconciled_at IS NULL RETURNING id
)
UPDATE reconciliation_runs
   SET summary = jsonb_set(jsonb_set(summary, '{matched_payments}', to_jsonb(cardinality($2::text[]))), '{unacknowledged_payments}', to_jsonb($3::int))
 WHERE id = $1
RETURNING (SELECT count(*)::int FROM marked) AS newly_reconciled
