-- A rail's first cursor; a cursor that exists is left alone (returns no row).
-- @param {String} $1:rail
-- @param {BigInt} $2:height
-- @param {String} $3:hash
-- @param {BigInt} $4:headHeight
-- (The WHERE inserts nothing for a null rail: TypedSQL's generator runs each statement once with
-- null arguments to learn its result's types, in a transaction it rolls back.)
INSERT INTO chain_cursors (rail, processed_height, processed_hash, head_height, finalized_height)
SELECT $1, $2::bigint, $3, $4::bigint, 0 WHERE $1::text IS NOT NULL
ON CONFLICT (rail) DO NOTHING
RETURNING rail
