-- What the watcher last told a payment (version and digest; with version null, kept) and
-- whether its transfers are all final.
-- @param {String} $1:paymentId
-- @param {Int} $2:version?
-- @param {String} $3:digest?
-- @param {Boolean} $4:settled
UPDATE payment_chain_views SET version = COALESCE($2, version), digest = COALESCE($3, digest), settled = $4,
       updated_at = CASE WHEN $2::int IS NULL THEN updated_at ELSE now() END
 WHERE payment_id = $1
RETURNING payment_id
