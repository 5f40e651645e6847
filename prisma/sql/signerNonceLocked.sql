-- A wallet's next nonce, its row locked until the transaction ends: every send from the wallet
-- serializes here, so a nonce is handed out once.
-- @param {String} $1:rail
-- @param {String} $2:address
SELECT next_nonce FROM signer_nonces WHERE rail = $1 AND address = $2 FOR UPDATE
