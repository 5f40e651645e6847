-- A merchant's threshold above which a payout needs two operators, in minor units scaled to 6 places.
-- @param {String} $1:merchantId
-- @param {String} $2:environment
SELECT dual_approval_above_minor::text AS minor6 FROM merchant_payout_settings WHERE merchant_id = $1 AND environment = $2
