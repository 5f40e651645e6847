-- Return a payment's deposit address to the pool (its monitoring window is over); answers how many.
-- @param {String} $1:paymentId
WITH released AS (
  UPDATE deposit_addresses SET payment_id = NULL, released_at = now() WHERE payment_id = $1 RETURNING 1
)
SELECT count(*)::int AS released FROM released
