-- The enabled endpoints of a merchant and environment subscribed to an event type (by any of its
-- subscription keys: `*`, `payment.*`, the exact type), oldest first, at most the fan-out cap.
-- @param {String} $1:merchantId
-- @param {String} $2:environment
-- @param $3:keys
-- @param {Int} $4:limit
SELECT id, ordering FROM webhook_endpoints
 WHERE merchant_id = $1 AND environment = $2 AND status = 'enabled' AND enabled_events && $3::text[]
 ORDER BY created_at, id LIMIT $4
