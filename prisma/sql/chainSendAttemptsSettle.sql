-- A send's versions once one is mined: that one `mined`, the others `replaced`.
-- @param {String} $1:sendKey
-- @param {String} $2:minedTxHash
WITH settled AS (
  UPDATE chain_send_attempts SET status = CASE WHEN tx_hash = $2 THEN 'mined' ELSE 'replaced' END, updated_at = now()
   WHERE send_key = $1
  RETURNING 1
)
SELECT count(*)::int AS settled FROM settled
