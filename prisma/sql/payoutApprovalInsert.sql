-- One operator's approval of a payout; the same operator again writes nothing and returns no row.
-- @param {String} $1:payoutId
-- @param {String} $2:operator
-- @param {String} $3:reason
INSERT INTO payout_approvals (payout_id, operator, reason)
SELECT id, $2, $3 FROM payouts WHERE id = $1
ON CONFLICT DO NOTHING
RETURNING operator
