-- The live key behind a secret's hash (a revoked key is no key): every authenticated API request reads it.
-- @param {String} $1:secretHash
SELECT id, merchant_id, environment, scopes FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL
