-- A delivery's state, and the milliseconds until its next attempt is due by the database's clock
-- (0 when overdue, null when none is scheduled).
-- @param {String} $1:deliveryId
SELECT status, attempt_count, last_error,
       GREATEST(0, extract(epoch FROM next_attempt_at - now()) * 1000)::float8 AS due_in_ms
  FROM webhook_deliveries WHERE id = $1
