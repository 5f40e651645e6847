-- Every account of an environment (or one merchant's) with its balance on the debit side: the sum
-- of its lines up to asOf (a hot account costs no lock: balances are sums over immutable lines).
-- @param {String} $1:environment
-- @param {String} $2:merchantId? only this merchant's accounts; null for every account of the environment
-- @param {DateTime} $3:asOf? lines effective at or before; null for now
SELECT a.id, a.owner_type, a.owner_id, a.purpose, a.asset, COALESCE(sum(l.amount_minor), 0)::text AS debit_balance
  FROM ledger_accounts a
  LEFT JOIN ledger_lines l ON l.account_id = a.id AND ($3::timestamptz IS NULL OR l.effective_at <= $3)
 WHERE a.environment = $1 AND ($2::text IS NULL OR (a.owner_type = 'merchant' AND a.owner_id = $2))
 GROUP BY a.id
 ORDER BY a.id
