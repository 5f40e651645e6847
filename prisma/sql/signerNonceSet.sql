-- A wallet's next nonce; with onlyIfNext, only when the counter stands right after `nonce`
-- (giving back the last one handed out). Returns the row when it changed.
-- @param {String} $1:rail
-- @param {String} $2:address
-- @param {Int} $3:nextNonce
-- @param {Boolean} $4:onlyIfNext
UPDATE signer_nonces SET next_nonce = $3, updated_at = now()
 WHERE rail = $1 AND address = $2 AND (NOT $4::boolean OR next_nonce = $3 + 1)
RETURNING next_nonce
