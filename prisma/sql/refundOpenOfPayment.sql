-- A payment's refund that is not failed or canceled (one refund per payment).
-- @param {String} $1:paymentId
SELECT id FROM payouts WHERE payment_id = $1 AND kind = 'refund' AND status NOT IN ('failed', 'canceled') LIMIT 1
