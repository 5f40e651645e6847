-- One signer of a send key at a time, until the transaction ends.
-- @param {String} $1:sendKey
SELECT 1::int AS locked FROM pg_advisory_xact_lock(hashtextextended($1, 11))
