-- The stored hash of a rail's block at a height, if it is kept.
-- @param {String} $1:rail
-- @param {BigInt} $2:height
SELECT hash FROM chain_blocks WHERE rail = $1 AND height = $2::bigint
