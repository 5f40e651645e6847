-- The entries posted for a cause that no entry reverses yet.
-- @param {String} $1:cause
SELECT e.id FROM ledger_entries e
 WHERE e.cause = $1 AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = e.id)
