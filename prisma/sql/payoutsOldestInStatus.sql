-- Per status, the age in seconds of the oldest payout in it, by the database's clock.
-- @param $1:statuses
SELECT status, extract(epoch FROM now() - min(updated_at))::float8 AS age_s FROM payouts WHERE status = ANY($1::text[]) GROUP BY status
