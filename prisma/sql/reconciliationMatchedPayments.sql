-- Confirmed payments with no open break, not yet reconciled and settled for the grace time:
-- candidates only, reconciled once their workflow acknowledged it.
-- @param {String} $1:environment
-- @param {String} $2:merchantId? only this merchant's payments; null for an operator-wide run
-- @param {Int} $3:graceS
-- @param {Int} $4:limit
SELECT p.id FROM payments p
 WHERE p.environment = $1 AND ($2::text IS NULL OR p.merchant_id = $2) AND p.status = 'confirmed' AND p.reconciled_at IS NULL
   AND p.updated_at < now() - make_interval(secs => $3::int)
   AND NOT EXISTS (SELECT 1 FROM reconciliation_breaks b WHERE b.payment_id = p.id AND b.status = 'open')
 ORDER BY p.id LIMIT $4
