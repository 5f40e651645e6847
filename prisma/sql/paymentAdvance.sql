-- Move a payment to its next status, only from the status and seq the transition starts at (a
-- stale or reordered transition changes nothing and returns no row). Amounts come back as
-- text, so a payment row reads the same over pg and over Prisma.
-- @param {String} $1:paymentId
-- @param {Int} $2:seq
-- @param {String} $3:toStatus
-- @param {String} $4:exceptionCode?
-- @param {String} $5:amountReceivedMinor a decimal string of minor units
-- @param {String} $6:fromStatus
UPDATE payments SET status = $3, exception_code = $4, amount_received_minor = $5::numeric, last_seq = $2,
       updated_at = date_trunc('milliseconds', clock_timestamp())
 WHERE id = $1 AND last_seq = $2 - 1 AND status = $6
RETURNING id, public_id, merchant_id, environment, rail, asset, amount_minor::text AS amount_minor, amount_received_minor::text AS amount_received_minor,
          status, exception_code, deposit_address, address_index::text AS address_index, reference, metadata, expires_at, created_at, updated_at, last_seq, refund_address
