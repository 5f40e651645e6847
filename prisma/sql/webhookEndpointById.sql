-- One webhook endpoint by id, in the row shape activities/repositories/webhook-endpoints.ts
-- names EndpointRow (deleted ones too: their history stays readable).
-- @param {String} $1:id
SELECT id, merchant_id, environment, url, description, enabled_events, status, disabled_reason, disabled_at,
       ordering, deleted_at, last_seq, created_at, updated_at
  FROM webhook_endpoints WHERE id = $1
