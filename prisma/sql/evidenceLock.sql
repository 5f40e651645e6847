-- Take the evidence chain's transaction-scoped lock: one appender at a time, released at commit.
-- @param {BigInt} $1:lockKey
SELECT 1::int AS locked FROM pg_advisory_xact_lock($1::bigint)
