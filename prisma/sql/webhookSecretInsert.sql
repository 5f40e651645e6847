-- A new signing secret for an endpoint, sealed. created_at is clock_timestamp(), not the
-- transaction's now(): it must sort after the secrets this transaction just set to end.
-- @param {String} $1:id
-- @param {String} $2:endpointId
-- @param {String} $3:ciphertext
INSERT INTO webhook_secrets (id, endpoint_id, secret_ciphertext, created_at)
SELECT $1, id, $3, clock_timestamp() FROM webhook_endpoints WHERE id = $2
RETURNING id
