-- Enable a disabled endpoint again; no row when it was not disabled.
-- @param {String} $1:id
UPDATE webhook_endpoints SET status = 'enabled', disabled_reason = NULL, disabled_at = NULL, updated_at = now()
 WHERE id = $1 AND status = 'disabled'
RETURNING merchant_id, last_seq
