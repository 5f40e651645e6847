-- A webhook secret sealed again (under the next master key).
-- @param {String} $1:id
-- @param {String} $2:ciphertext
UPDATE webhook_secrets SET secret_ciphertext = $2 WHERE id = $1 RETURNING id
