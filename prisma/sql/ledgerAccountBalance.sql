-- One account's balance, debit-positive, as a decimal string of minor units.
-- @param {String} $1:accountId
SELECT COALESCE(sum(amount_minor), 0)::text AS debit_minor FROM ledger_lines WHERE account_id = $1
