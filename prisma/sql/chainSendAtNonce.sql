-- The send (not rejected) that holds a wallet's nonce on a rail, if any.
-- @param {String} $1:rail
-- @param {String} $2:fromAddress
-- @param {Int} $3:nonce
SELECT send_key FROM chain_sends WHERE rail = $1 AND from_address = $2 AND nonce = $3 AND status <> 'rejected' LIMIT 1
