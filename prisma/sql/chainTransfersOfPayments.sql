-- The live (not reorged out) transfers matched to these payments, in chain order; heights and
-- amounts as text.
-- @param {String} $1:rail
-- @param $2:paymentIds
SELECT payment_id, tx_hash, log_index, block_height::text AS block_height, block_hash, amount_minor::text AS amount_minor, to_address
  FROM chain_transfers
 WHERE rail = $1 AND payment_id = ANY($2::text[]) AND removed_at IS NULL
 ORDER BY block_height, tx_hash, log_index
