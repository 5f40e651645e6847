-- A payout's approvals, first given first.
-- @param {String} $1:payoutId
SELECT operator, reason, created_at FROM payout_approvals WHERE payout_id = $1 ORDER BY created_at, operator
