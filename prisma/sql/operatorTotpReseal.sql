-- An operator's TOTP seed sealed again (under the next master key).
-- @param {String} $1:id
-- @param {String} $2:sealed
UPDATE operators SET totp_secret_sealed = $2 WHERE id = $1 RETURNING id
