-- Serialize every hold against one account until the transaction ends: two payouts racing for
-- the same available money must not both pass the balance check.
-- @param {String} $1:accountId
SELECT 1::int AS locked FROM pg_advisory_xact_lock(hashtextextended($1, 7))
