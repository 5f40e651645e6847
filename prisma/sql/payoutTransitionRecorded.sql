-- The event of a payout transition already recorded at this seq (a retried activity finds it).
-- @param {String} $1:payoutId
-- @param {Int} $2:seq
SELECT e.id FROM payout_transitions t JOIN events e ON e.object_id = t.payout_id AND e.sequence = t.seq
 WHERE t.payout_id = $1 AND t.seq = $2
