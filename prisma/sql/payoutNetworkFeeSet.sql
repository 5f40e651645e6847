-- What the payout's transaction cost and where it was mined (all null: a reorg took it out).
-- @param {String} $1:payoutId
-- @param {String} $2:feeMinor? a decimal string of minor units of the native asset
-- @param {String} $3:feeAsset?
-- @param {BigInt} $4:blockHeight?
UPDATE payouts SET network_fee_minor = $2::numeric, network_fee_asset = $3, block_height = $4::bigint,
       updated_at = date_trunc('milliseconds', clock_timestamp())
 WHERE id = $1
RETURNING id
