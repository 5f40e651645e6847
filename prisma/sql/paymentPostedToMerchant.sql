-- What a payment's own entries left on the merchant's pending and available accounts
-- (credit-normal, so negated), per purpose, as decimal strings of minor units.
-- @param {String} $1:paymentId
SELECT a.purpose, COALESCE(-sum(l.amount_minor), 0)::text AS credit_minor
  FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id JOIN ledger_accounts a ON a.id = l.account_id
 WHERE e.payment_id = $1 AND a.purpose IN ('pending', 'available') AND a.owner_type = 'merchant'
 GROUP BY a.purpose
