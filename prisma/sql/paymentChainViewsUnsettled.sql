-- The rail's payment views still to settle, least recently updated first, at most `limit`.
-- @param {String} $1:rail
-- @param {Int} $2:limit
SELECT payment_id, version, digest FROM payment_chain_views WHERE rail = $1 AND settled = false ORDER BY updated_at LIMIT $2
