-- A wallet's nonce counter exists (from 0); one that exists is left alone.
-- @param {String} $1:rail
-- @param {String} $2:address
INSERT INTO signer_nonces (rail, address, next_nonce) SELECT $1, $2, 0 WHERE $1::text IS NOT NULL
ON CONFLICT DO NOTHING
RETURNING next_nonce
