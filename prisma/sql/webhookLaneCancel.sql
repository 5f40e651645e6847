-- A lane's pending deliveries (automatic and recoveries) (one object's events to one endpoint) end unsent.
-- @param {String} $1:objectId
-- @param {String} $2:endpointId
-- @param {String} $3:reason
WITH ended AS (
  UPDATE webhook_deliveries d SET status = 'canceled', last_error = $3, next_attempt_at = NULL, updated_at = now()
    FROM events e WHERE e.id = d.event_id AND e.object_id = $1 AND d.endpoint_id = $2 AND d.status = 'pending' AND d.kind IN ('automatic', 'recovery')
  RETURNING 1
)
SELECT count(*)::int AS ended FROM ended
