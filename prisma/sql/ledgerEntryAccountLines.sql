-- A ledger entry's lines in order, each with its account's identity (amounts as text).
-- @param {String} $1:entryId
SELECT l.amount_minor::text AS amount, a.owner_type, a.owner_id, a.environment, a.purpose, a.asset
  FROM ledger_lines l JOIN ledger_accounts a ON a.id = l.account_id WHERE l.entry_id = $1 ORDER BY l.line_no
