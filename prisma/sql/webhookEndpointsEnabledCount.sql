-- How many of a merchant's endpoints in an environment are enabled (the fan-out cap counts these).
-- @param {String} $1:merchantId
-- @param {String} $2:environment
SELECT count(*)::int AS n FROM webhook_endpoints WHERE merchant_id = $1 AND environment = $2 AND status = 'enabled'
