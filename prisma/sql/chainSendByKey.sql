-- A recorded send (signed bytes, hash, nonce, status) by its key; amounts as text.
-- @param {String} $1:sendKey
SELECT send_key, rail, environment, purpose, tx_hash, nonce, from_address, to_address, asset, amount_minor::text AS amount_minor, raw, status, key_ref
  FROM chain_sends WHERE send_key = $1
