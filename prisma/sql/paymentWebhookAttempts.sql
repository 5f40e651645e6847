-- Every webhook attempt made for a payment's events, oldest first: what was sent where, and what came back.
-- @param {String} $1:paymentId
-- @param {Int} $2:limit
SELECT a.delivery_id, a.attempt, a.event_id, a.endpoint_id, a.url, a.response_status, a.latency_ms, a.error, a.outcome, a.created_at
  FROM webhook_attempts a JOIN events e ON e.id = a.event_id
 WHERE e.object_id = $1 ORDER BY a.created_at LIMIT $2
