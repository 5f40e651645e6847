-- A payment's transition, at the time the payment row records for it.
-- @param {String} $1:paymentId
-- @param {Int} $2:seq
-- @param {String} $3:fromStatus?
-- @param {String} $4:toStatus
-- @param {String} $5:cause
-- @param {String} $6:actor
-- @param {String} $7:exceptionCode?
-- @param {String} $8:reason?
-- @param {String} $9:amountReceivedMinor a decimal string of minor units
-- @param {DateTime} $10:at
INSERT INTO payment_transitions (payment_id, seq, from_status, to_status, cause, actor, exception_code, reason, amount_received_minor, created_at)
SELECT id, $2, $3, $4, $5, $6, $7, $8, $9::numeric, $10 FROM payments WHERE id = $1
RETURNING seq
