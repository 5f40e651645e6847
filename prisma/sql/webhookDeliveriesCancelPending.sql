-- End every pending delivery of an endpoint (their workflows stop at their next attempt without
-- sending); answers how many ended.
-- @param {String} $1:endpointId
-- @param {String} $2:reason
WITH ended AS (
  UPDATE webhook_deliveries SET status = 'canceled', last_error = $2, next_attempt_at = NULL, updated_at = now()
   WHERE endpoint_id = $1 AND status = 'pending'
  RETURNING 1
)
SELECT count(*)::int AS ended FROM ended
