-- The events a payment announced, in sequence order.
-- @param {String} $1:paymentId
-- @param {Int} $2:limit
SELECT id, type, sequence, created_at FROM events WHERE object_id = $1 ORDER BY sequence LIMIT $2
