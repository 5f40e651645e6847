-- Deposit addresses that ever received the rail's token in this environment (or unmatched, so
-- of no environment yet): the only ones that can hold it. At most `limit`, by index.
-- @param {String} $1:rail
-- @param {String} $2:environment
-- @param {Int} $3:limit
SELECT DISTINCT d.address_index::text AS address_index, d.address
  FROM deposit_addresses d
  JOIN chain_transfers t ON t.rail = d.rail AND t.to_address = d.address AND t.removed_at IS NULL
  LEFT JOIN payments p ON p.id = t.payment_id
 WHERE d.rail = $1 AND (p.id IS NULL OR p.environment = $2)
 ORDER BY 1 LIMIT $3
