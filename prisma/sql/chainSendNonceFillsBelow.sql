-- A wallet's nonce fills not yet settled below a nonce, lowest first, at most `limit`.
-- @param {String} $1:rail
-- @param {String} $2:fromAddress
-- @param {Int} $3:belowNonce
-- @param {Int} $4:limit
SELECT send_key, rail, environment, purpose, tx_hash, nonce, from_address, to_address, asset, amount_minor::text AS amount_minor, raw, status, key_ref
  FROM chain_sends
 WHERE rail = $1 AND from_address = $2 AND purpose = 'nonce_fill' AND status IN ('signed', 'broadcast') AND nonce < $3
 ORDER BY nonce LIMIT $4
