-- Whether an earlier event of the same object is still pending (automatic, or a
-- recovery the lane is resending) to this endpoint.
-- @param {String} $1:objectId
-- @param {Int} $2:sequence
-- @param {String} $3:endpointId
SELECT EXISTS (SELECT 1 FROM events e JOIN webhook_deliveries d ON d.event_id = e.id
                WHERE e.object_id = $1 AND e.sequence < $2 AND d.endpoint_id = $3 AND d.kind IN ('automatic', 'recovery') AND d.status = 'pending') AS waiting
