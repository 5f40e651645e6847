-- Disable an enabled endpoint and take the next number of its own event sequence; no row when it
-- was not enabled (a second disable is a no-op).
-- @param {String} $1:id
-- @param {String} $2:reason
UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, disabled_at = now(), updated_at = now(), last_seq = last_seq + 1
 WHERE id = $1 AND status = 'enabled'
RETURNING id, merchant_id, environment, url, description, enabled_events, status, disabled_reason, disabled_at,
          ordering, deleted_at, last_seq, created_at, updated_at
