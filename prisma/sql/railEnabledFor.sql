-- Whether a merchant may use a rail in an environment: every payment's creation asks.
-- @param {String} $1:merchantId
-- @param {String} $2:environment
-- @param {String} $3:railId
SELECT rail_id FROM rail_enablements WHERE merchant_id = $1 AND environment = $2 AND rail_id = $3
