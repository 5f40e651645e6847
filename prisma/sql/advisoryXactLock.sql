-- Take a named transaction-scoped advisory lock: one holder at a time across processes, until
-- the transaction ends. Run it as its own statement: under READ COMMITTED the next statement's
-- snapshot then sees everything committed by the holder before it.
-- @param {String} $1:name
SELECT 1::int AS locked FROM pg_advisory_xact_lock(hashtext($1))
