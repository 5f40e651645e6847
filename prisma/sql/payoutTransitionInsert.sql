-- A payout's transition, at the time the payout row records for it.
-- @param {String} $1:payoutId
-- @param {Int} $2:seq
-- @param {String} $3:fromStatus?
-- @param {String} $4:toStatus
-- @param {String} $5:cause
-- @param {String} $6:actor
-- @param {String} $7:reason?
-- @param {DateTime} $8:at
INSERT INTO payout_transitions (payout_id, seq, from_status, to_status, cause, actor, reason, created_at)
SELECT id, $2, $3, $4, $5, $6, $7, $8 FROM payouts WHERE id = $1
RETURNING seq
