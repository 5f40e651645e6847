-- The sealed secrets that sign now (by the database's clock, which set their ends), newest first.
-- @param {String} $1:endpointId
-- @param {Int} $2:limit
SELECT secret_ciphertext FROM webhook_secrets WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > now())
 ORDER BY created_at DESC LIMIT $2
