-- A send's outcome as mined (executed or reverted, its fee and block); with onlyUnsettled, only
-- while it is still signed or broadcast. Returns the row when it moved.
-- @param {String} $1:sendKey
-- @param {String} $2:status
-- @param {String} $3:feeMinor a decimal string of minor units of the native asset
-- @param {BigInt} $4:blockHeight
-- @param {String} $5:blockHash
-- @param {Boolean} $6:onlyUnsettled
UPDATE chain_sends SET status = $2, fee_minor = $3::numeric, block_height = $4::bigint, block_hash = $5, updated_at = now()
 WHERE send_key = $1 AND (NOT $6::boolean OR status IN ('signed', 'broadcast'))
RETURNING send_key
