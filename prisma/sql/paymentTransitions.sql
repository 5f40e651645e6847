-- A payment's recorded transitions in order (its timeline and evidence pack).
-- @param {String} $1:paymentId
-- @param {Int} $2:limit
SELECT seq, from_status, to_status, cause, actor, exception_code, reason, amount_received_minor::text AS amount_received_minor, created_at
  FROM payment_transitions WHERE payment_id = $1 ORDER BY seq LIMIT $2
