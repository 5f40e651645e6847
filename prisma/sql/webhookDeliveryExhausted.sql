-- A pending delivery whose retries ran out ends failed.
-- @param {String} $1:deliveryId
UPDATE webhook_deliveries SET status = 'failed', last_error = COALESCE(last_error, 'retries_exhausted'), next_attempt_at = NULL, updated_at = now()
 WHERE id = $1 AND status = 'pending'
RETURNING id
