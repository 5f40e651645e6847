-- Log an attempt of a delivery with what was sent and what came back; a second log of the same
-- attempt (a retried activity) writes nothing and returns no row.
-- @param {String} $1:deliveryId
-- @param {Int} $2:attempt
-- @param {String} $3:url
-- @param {String} $4:requestHeaders JSON
-- @param {String} $5:requestBody
-- @param {Int} $6:responseStatus? null when no answer came
-- @param {String} $7:responseBodyExcerpt?
-- @param {Int} $8:latencyMs
-- @param {String} $9:error?
-- @param {String} $10:outcome
INSERT INTO webhook_attempts (delivery_id, attempt, endpoint_id, event_id, url, request_headers, request_body, response_status,
                              response_body_excerpt, latency_ms, error, outcome)
SELECT d.id, $2, d.endpoint_id, d.event_id, $3, $4::jsonb, $5, $6, $7, $8, $9, $10
  FROM webhook_deliveries d WHERE d.id = $1
ON CONFLICT (delivery_id, attempt) DO NOTHING
RETURNING attempt
