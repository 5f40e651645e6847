-- The stored block hashes from a height down, at most `depth` of them, highest first (where a
-- reorg's common ancestor is looked for).
-- @param {String} $1:rail
-- @param {BigInt} $2:fromHeight
-- @param {Int} $3:depth
SELECT height::text AS height, hash FROM chain_blocks
 WHERE rail = $1 AND height <= $2::bigint AND height > $2::bigint - $3 ORDER BY chain_blocks.height DESC
