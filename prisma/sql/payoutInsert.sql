-- A payout request's row at pending_approval, seq 1, with the hold entry that took its money.
-- @param {String} $1:id
-- @param {String} $2:merchantId
-- @param {String} $3:environment
-- @param {String} $4:kind
-- @param {String} $5:rail
-- @param {String} $6:asset
-- @param {String} $7:amountMinor a decimal string of minor units
-- @param {String} $8:destinationId?
-- @param {String} $9:destinationAddress
-- @param {String} $10:reference
-- @param {String} $11:paymentId?
-- @param {Int} $12:approvalsRequired
-- @param {String} $13:holdEntryId
-- @param {String} $14:createdBy
INSERT INTO payouts (id, merchant_id, environment, kind, rail, asset, amount_minor, destination_id, destination_address, reference, payment_id,
                     status, approvals_required, last_seq, hold_entry_id, created_by, created_at, updated_at)
SELECT $1, m.id, $3, $4, $5, $6, $7::numeric, $8, $9, $10, $11, 'pending_approval', $12, 1, $13, $14,
       date_trunc('milliseconds', now()), date_trunc('milliseconds', now())
  FROM merchants m WHERE m.id = $2
RETURNING id, merchant_id, environment, kind, rail, asset, amount_minor::text AS amount_minor, destination_id, destination_address, reference,
       payment_id, status, approvals_required, last_seq, hold_entry_id, tx_hash, nonce, from_address, network_fee_minor::text AS network_fee_minor,
       network_fee_asset, block_height::text AS block_height, failure_code, created_by, created_at, updated_at
