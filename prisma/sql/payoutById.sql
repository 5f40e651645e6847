-- A payout row as activities/repositories/payouts.ts names PayoutRow (amounts and heights as text).
-- @param {String} $1:id
SELECT id, merchant_id, environment, kind, rail, asset, amount_minor::text AS amount_minor, destination_id, destination_address, reference,
       payment_id, status, approvals_required, last_seq, hold_entry_id, tx_hash, nonce, from_address, network_fee_minor::text AS network_fee_minor,
       network_fee_asset, block_height::text AS block_height, failure_code, created_by, created_at, updated_at
  FROM payouts WHERE id = $1
