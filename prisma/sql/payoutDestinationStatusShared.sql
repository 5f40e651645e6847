-- An allowlisted destination's status, read under a share lock: a revocation committing now is
-- seen, or waits for this transaction and then finds its payout among those to cancel.
-- @param {String} $1:id
SELECT status FROM payout_destinations WHERE id = $1 FOR SHARE
