-- Pending delivery rows for event × endpoint pairs, due now; a delivery id that exists is left alone.
-- @param $1:ids
-- @param $2:endpointIds
-- @param $3:eventIds
-- @param $4:kinds
INSERT INTO webhook_deliveries (id, endpoint_id, event_id, merchant_id, environment, kind, next_attempt_at)
SELECT d.id, d.endpoint_id, d.event_id, w.merchant_id, w.environment, d.kind, now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS d(id, endpoint_id, event_id, kind)
  JOIN webhook_endpoints w ON w.id = d.endpoint_id
ON CONFLICT (id) DO NOTHING
RETURNING id
