-- Every signed version of a send, oldest first (none until one was replaced).
-- @param {String} $1:sendKey
SELECT attempt, tx_hash, raw FROM chain_send_attempts WHERE send_key = $1 ORDER BY attempt
