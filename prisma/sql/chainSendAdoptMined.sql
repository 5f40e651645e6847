-- The mined version of a send wins: the send row carries its hash, bytes and outcome.
-- @param {String} $1:sendKey
-- @param {String} $2:txHash
-- @param {String} $3:raw
-- @param {String} $4:status executed or reverted
-- @param {String} $5:feeMinor a decimal string of minor units of the native asset
-- @param {BigInt} $6:blockHeight
-- @param {String} $7:blockHash
UPDATE chain_sends SET tx_hash = $2, raw = $3, status = $4, fee_minor = $5::numeric, block_height = $6::bigint, block_hash = $7, updated_at = now()
 WHERE send_key = $1
RETURNING send_key
