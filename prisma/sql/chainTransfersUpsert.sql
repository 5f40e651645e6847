-- Transfers to watched addresses with the payment each matched; re-inclusion after a reorg
-- revives the row (same key), so it still counts once.
-- @param {String} $1:rail
-- @param $2:txHashes
-- @param $3:logIndexes
-- @param $4:blockHeights
-- @param $5:blockHashes
-- @param $6:fromAddresses
-- @param $7:toAddresses
-- @param $8:amountsMinor decimal strings of minor units
-- @param $9:paymentIds
WITH stored AS (
  INSERT INTO chain_transfers (rail, tx_hash, log_index, block_height, block_hash, from_address, to_address, amount_minor, payment_id)
  SELECT $1, tx, li, bh, bx, fa, ta, am::numeric, pid
    FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u(tx, li, bh, bx, fa, ta, am, pid)
  ON CONFLICT (rail, tx_hash, log_index) DO UPDATE
    SET block_height = EXCLUDED.block_height, block_hash = EXCLUDED.block_hash, removed_at = NULL, updated_at = now()
  RETURNING 1
)
SELECT count(*)::int AS stored FROM stored
