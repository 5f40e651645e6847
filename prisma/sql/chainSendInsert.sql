-- A signed send, recorded before anything leaves the process.
-- @param {String} $1:sendKey
-- @param {String} $2:rail
-- @param {String} $3:environment
-- @param {String} $4:purpose
-- @param {String} $5:fromAddress
-- @param {String} $6:toAddress
-- @param {String} $7:asset
-- @param {String} $8:amountMinor a decimal string of minor units
-- @param {Int} $9:nonce? null on rails without nonces (TRON)
-- @param {String} $10:txHash
-- @param {String} $11:raw
-- @param {String} $12:feeAsset
-- @param {String} $13:keyRef the signing key's reference as JSON
-- (The WHERE records nothing for a null key: TypedSQL's generator runs each statement once with
-- null arguments to learn its result's types, in a transaction it rolls back.)
INSERT INTO chain_sends (send_key, rail, environment, purpose, from_address, to_address, asset, amount_minor, nonce, tx_hash, raw, status, fee_asset, key_ref)
SELECT $1, $2, $3, $4, $5, $6, $7, $8::numeric, $9, $10, $11, 'signed', $12, $13 WHERE $1::text IS NOT NULL
RETURNING send_key
