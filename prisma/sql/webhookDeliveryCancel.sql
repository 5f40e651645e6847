-- A pending delivery ends without being sent (its endpoint is disabled or deleted).
-- @param {String} $1:deliveryId
-- @param {String} $2:reason
UPDATE webhook_deliveries SET status = 'canceled', last_error = $2, next_attempt_at = NULL, updated_at = now()
 WHERE id = $1 AND status = 'pending'
RETURNING id
