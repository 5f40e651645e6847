-- Lock an endpoint's row until the transaction ends: one secret rotation at a time per endpoint.
-- @param {String} $1:id
SELECT id FROM webhook_endpoints WHERE id = $1 FOR UPDATE
