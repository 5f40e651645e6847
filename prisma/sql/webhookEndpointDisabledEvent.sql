-- The `webhook_endpoint.disabled` event, numbered by the endpoint's own sequence and carrying
-- its view as of now; written in the transaction that disabled it.
-- @param {String} $1:eventId
-- @param {String} $2:endpointId
-- @param {String} $3:data the endpoint's API object as JSON
INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data, created_at)
SELECT $1, merchant_id, environment, 'webhook_endpoint.disabled', 'webhook_endpoint', id, last_seq, $3::jsonb, now()
  FROM webhook_endpoints WHERE id = $2
RETURNING id
