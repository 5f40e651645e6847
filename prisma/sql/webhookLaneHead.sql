-- A lane's earliest pending delivery (by its event's sequence), and when it is due in epoch
-- milliseconds. Automatic deliveries and recoveries: a recovery resends in order through the
-- lane; a redelivery is one explicit resend and goes on its own.
-- @param {String} $1:objectId
-- @param {String} $2:endpointId
SELECT d.id, d.event_id, d.attempt_count, (extract(epoch FROM d.next_attempt_at) * 1000)::float8 AS due_ms
  FROM events e JOIN webhook_deliveries d ON d.event_id = e.id AND d.endpoint_id = $2 AND d.kind IN ('automatic', 'recovery') AND d.status = 'pending'
 WHERE e.object_id = $1 ORDER BY e.sequence, d.created_at, d.id LIMIT 1
