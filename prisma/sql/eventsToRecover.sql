-- The events of a window an endpoint subscribes to and never received successfully (failed,
-- canceled, or never sent while it was disabled) and that is not on its way to it now (a
-- pending delivery), oldest first: what recovering it resends. With each, its object and
-- sequence, so a recovery to an endpoint that keeps order goes through the object's lane.
-- @param {String} $1:merchantId
-- @param {String} $2:environment
-- @param {DateTime} $3:since
-- @param {DateTime} $4:until
-- @param $5:enabledEvents the endpoint's subscriptions ('*', 'payment.*', 'payment.confirmed', ...)
-- @param {String} $6:endpointId
-- @param {Int} $7:limit
SELECT e.id, e.created_at, e.object_id, e.sequence FROM events e
 WHERE e.merchant_id = $1 AND e.environment = $2 AND e.object_type <> 'webhook_endpoint'
   AND e.created_at >= $3 AND e.created_at < $4
   -- Nothing from before the endpoint existed: it never missed those.
   AND e.created_at >= (SELECT w.created_at FROM webhook_endpoints w WHERE w.id = $6)
   AND $5::text[] && ARRAY['*', split_part(e.type, '.', 1) || '.*', e.type]
   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.endpoint_id = $6 AND d.status IN ('succeeded', 'pending'))
 ORDER BY e.created_at, e.id LIMIT $7
