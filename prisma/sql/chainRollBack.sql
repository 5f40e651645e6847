-- A reorg back to a common ancestor, in one statement: transfers above it are marked removed
-- (their payments' views are recomputed, their open exceptions closed), treasury transfers too,
-- and the block hashes above it dropped. Answers the payments whose transfers went away.
-- @param {String} $1:rail
-- @param {BigInt} $2:ancestorHeight
WITH removed AS (
  UPDATE chain_transfers SET removed_at = now(), updated_at = now()
   WHERE rail = $1 AND block_height > $2::bigint AND removed_at IS NULL
  RETURNING payment_id, tx_hash, log_index
), voided AS (
  -- An exception about money the chain no longer shows is closed by the reorg (reopened if the
  -- transfer is mined again: prisma/sql/chainExceptionInsert.sql).
  UPDATE chain_exceptions e SET status = 'resolved', resolution = 'reorged', resolved_by = 'watcher:' || $1,
         reason = 'a reorg took the transfer off the chain', resolved_at = now()
    FROM removed r
   WHERE e.rail = $1 AND e.tx_hash = r.tx_hash AND e.log_index = r.log_index AND e.status = 'open'
  RETURNING 1
), views AS (
  UPDATE payment_chain_views SET settled = false WHERE payment_id IN (SELECT payment_id FROM removed WHERE payment_id IS NOT NULL)
  RETURNING payment_id
), treasury AS (
  UPDATE treasury_transfers SET removed_at = now() WHERE rail = $1 AND block_height > $2::bigint AND removed_at IS NULL
  RETURNING 1
), blocks AS (
  DELETE FROM chain_blocks WHERE rail = $1 AND height > $2::bigint
  RETURNING 1
)
SELECT DISTINCT payment_id FROM removed WHERE payment_id IS NOT NULL
