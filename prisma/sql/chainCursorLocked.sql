-- A rail's chain cursor, locked until the transaction ends: one ingest of a rail at a time.
-- @param {String} $1:rail
SELECT processed_height::text AS processed_height, processed_hash FROM chain_cursors WHERE rail = $1 FOR UPDATE
