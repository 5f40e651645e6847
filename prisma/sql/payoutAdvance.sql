-- Move a payout to its next status, only from the status and seq the transition starts at (no
-- row otherwise), taking the chain send's hash, nonce and sender when one is named. Back on
-- chain (a replacement sent, a late mining), a review's failure code no longer holds.
-- @param {String} $1:payoutId
-- @param {Int} $2:seq
-- @param {String} $3:toStatus
-- @param {String} $4:fromStatus
-- @param {String} $5:failureCode?
-- @param {String} $6:sendKey?
UPDATE payouts p SET status = $3, last_seq = $2,
       failure_code = CASE WHEN p.status = 'requires_review' AND $3 IN ('broadcast', 'confirmed') THEN NULL ELSE COALESCE($5, failure_code) END,
       updated_at = date_trunc('milliseconds', clock_timestamp()),
       tx_hash = cs.tx_hash, nonce = cs.nonce, from_address = cs.from_address
  FROM (SELECT NULL) AS one LEFT JOIN chain_sends cs ON cs.send_key = $6
 WHERE p.id = $1 AND p.last_seq = $2 - 1 AND p.status = $4
RETURNING p.id, p.merchant_id, p.environment, p.kind, p.rail, p.asset, p.amount_minor::text AS amount_minor, p.destination_id, p.destination_address, p.reference,
       p.payment_id, p.status, p.approvals_required, p.last_seq, p.hold_entry_id, p.tx_hash, p.nonce, p.from_address, p.network_fee_minor::text AS network_fee_minor,
       p.network_fee_asset, p.block_height::text AS block_height, p.failure_code, p.created_by, p.created_at, p.updated_at
