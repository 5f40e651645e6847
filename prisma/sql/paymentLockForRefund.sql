-- A payment's row locked until the transaction ends: two refund decisions for one payment serialize here.
-- @param {String} $1:paymentId
SELECT id, merchant_id, environment, rail, asset, amount_received_minor::text AS received_minor, reference
  FROM payments WHERE id = $1 FOR UPDATE
