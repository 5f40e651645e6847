-- A recovery's pending rows, one per event that is neither on its way to the endpoint (a pending
-- delivery) nor delivered to it: run under the endpoint's recovery lock, so two recoveries at
-- once write each event once between them. Answers every row of this recovery that exists, the
-- ones written before included, so a retried activity hands the same rows over.
-- @param $1:ids the recovery's delivery ids
-- @param $2:eventIds in the same order
-- @param {String} $3:endpointId
WITH written AS (
  INSERT INTO webhook_deliveries (id, endpoint_id, event_id, merchant_id, environment, kind, next_attempt_at)
  SELECT d.id, w.id, d.event_id, w.merchant_id, w.environment, 'recovery', now()
    FROM unnest($1::text[], $2::text[]) AS d(id, event_id) JOIN webhook_endpoints w ON w.id = $3
   WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries x
                      WHERE x.event_id = d.event_id AND x.endpoint_id = $3 AND x.status IN ('pending', 'succeeded') AND x.id <> d.id)
  ON CONFLICT (id) DO NOTHING
  RETURNING id
)
SELECT id FROM written
UNION
SELECT id FROM webhook_deliveries WHERE id = ANY($1::text[])
