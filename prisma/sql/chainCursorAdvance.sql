-- The cursor after a batch: processed block, the node's head and finalized heights, and one
-- more reorg counted when the batch rolled back first.
-- @param {String} $1:rail
-- @param {BigInt} $2:processedHeight
-- @param {String} $3:processedHash
-- @param {BigInt} $4:headHeight
-- @param {BigInt} $5:finalizedHeight
-- @param {Int} $6:reorgs 1 when this batch rolled back, else 0
UPDATE chain_cursors SET processed_height = $2::bigint, processed_hash = $3, head_height = $4::bigint, finalized_height = $5::bigint,
       reorgs = reorgs + $6, updated_at = now()
 WHERE rail = $1
RETURNING rail
