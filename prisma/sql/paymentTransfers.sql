-- The chain transfers matched to a payment, in chain order, with their confirmations at the
-- rail's current head (none for a transfer a reorg removed).
-- @param {String} $1:paymentId
-- @param {Int} $2:limit
SELECT t.tx_hash, t.log_index, t.block_height::text AS block_height, t.block_hash, t.from_address, t.to_address, t.amount_minor::text AS amount_minor, t.removed_at, t.created_at,
       CASE WHEN t.removed_at IS NULL THEN GREATEST(c.head_height - t.block_height + 1, 0)::text END AS confirmations
  FROM chain_transfers t LEFT JOIN chain_cursors c ON c.rail = t.rail
 WHERE t.payment_id = $1 ORDER BY t.block_height, t.log_index LIMIT $2
