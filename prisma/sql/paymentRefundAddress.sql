-- The payer's refund address, set only when none is (the first one wins): set_address is the
-- one set now, kept_address the one already there (both null: no such payment).
-- @param {String} $1:paymentId
-- @param {String} $2:address
WITH set AS (
  UPDATE payments SET refund_address = $2 WHERE id = $1 AND refund_address IS NULL RETURNING refund_address
)
SELECT (SELECT refund_address FROM set) AS set_address, (SELECT refund_address FROM payments WHERE id = $1) AS kept_address
