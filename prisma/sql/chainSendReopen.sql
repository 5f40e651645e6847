-- A mined send taken out by a reorg: broadcast again, its outcome and the version's status cleared.
-- @param {String} $1:sendKey
-- @param {String} $2:txHash
WITH send AS (
  UPDATE chain_sends SET status = 'broadcast', fee_minor = NULL, block_height = NULL, block_hash = NULL, updated_at = now()
   WHERE send_key = $1 RETURNING send_key
), version AS (
  UPDATE chain_send_attempts SET status = 'pending', updated_at = now() WHERE send_key = $1 AND tx_hash = $2 RETURNING 1
)
SELECT (SELECT count(*) FROM send)::int AS sends, (SELECT count(*) FROM version)::int AS versions
