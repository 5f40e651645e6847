-- A rail's chain cursor: the last block processed and the finalized height (heights as text).
-- @param {String} $1:rail
SELECT processed_height::text AS processed_height, processed_hash, finalized_height::text AS finalized_height
  FROM chain_cursors WHERE rail = $1
