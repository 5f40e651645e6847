-- A payment's transition already recorded at this seq, with its event (a retried activity finds it).
-- @param {String} $1:paymentId
-- @param {Int} $2:seq
SELECT e.id, e.type FROM payment_transitions t JOIN events e ON e.object_id = t.payment_id AND e.sequence = t.seq
 WHERE t.payment_id = $1 AND t.seq = $2
