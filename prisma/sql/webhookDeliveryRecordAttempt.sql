-- A pending delivery after an attempt: its count, last answer, final status when delivered
-- (succeeded) or gone (failed), and when the next attempt is due (none when nextMs is null).
-- @param {String} $1:deliveryId
-- @param {Int} $2:attempt
-- @param {Int} $3:responseStatus?
-- @param {String} $4:error?
-- @param {String} $5:outcome
-- @param {BigInt} $6:nextMs? null when no attempt is left
UPDATE webhook_deliveries SET attempt_count = GREATEST(attempt_count, $2), last_response_status = $3, last_error = $4,
       status = CASE WHEN $5 = 'delivered' THEN 'succeeded' WHEN $5 = 'gone' THEN 'failed' ELSE status END,
       next_attempt_at = CASE WHEN $6::bigint IS NULL THEN NULL ELSE now() + make_interval(secs => $6::bigint / 1000.0) END,
       updated_at = now()
 WHERE id = $1 AND status = 'pending'
RETURNING id
