-- A batch of orders upserted by (merchant, environment, reference) in one statement; returns the
-- orders it created or changed (an unchanged order is not rewritten and not returned).
-- @param {String} $1:merchantId
-- @param {String} $2:environment
-- @param $3:ids a new id for each order (used only by the ones created)
-- @param $4:references
-- @param $5:amountsMinor decimal strings of minor units
-- @param $6:assets
-- @param $7:statuses
INSERT INTO orders AS o (id, merchant_id, environment, reference, amount_minor, asset, status)
SELECT x.id, $1, $2, x.reference, x.amount_minor::numeric, x.asset, x.status
  FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS x(id, reference, amount_minor, asset, status)
ON CONFLICT (merchant_id, environment, reference) DO UPDATE
  SET amount_minor = EXCLUDED.amount_minor, asset = EXCLUDED.asset, status = EXCLUDED.status, updated_at = now()
  WHERE (o.amount_minor, o.asset, o.status) IS DISTINCT FROM (EXCLUDED.amount_minor, EXCLUDED.asset, EXCLUDED.status)
RETURNING id, reference, amount_minor, asset, status, created_at, updated_at
