-- What an attempt sends and where: the event (when it belongs to the endpoint's merchant and
-- environment) and the endpoint's URL and status.
-- @param {String} $1:eventId
-- @param {String} $2:endpointId
SELECT e.id AS event_id, e.type, e.sequence, e.data, e.created_at, w.url, w.environment, w.status
  FROM events e JOIN webhook_endpoints w ON w.id = $2 AND w.merchant_id = e.merchant_id AND w.environment = e.environment
 WHERE e.id = $1
