-- Block hashes below a height are never compared again: dropped.
-- @param {String} $1:rail
-- @param {BigInt} $2:belowHeight
WITH dropped AS (DELETE FROM chain_blocks WHERE rail = $1 AND height < $2::bigint RETURNING 1)
SELECT count(*)::int AS dropped FROM dropped
