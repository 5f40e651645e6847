-- An allowlist entry's status, locked until the transaction ends: a revocation and the payouts
-- it finds to cancel are one decision (payout creation reads the row under a share lock).
-- @param {String} $1:id
SELECT status FROM payout_destinations WHERE id = $1 FOR UPDATE
