-- A signed version of a send (the first signature as attempt 0, a replacement after it); one
-- recorded already is left alone.
-- @param {String} $1:sendKey
-- @param {Int} $2:attempt
-- @param {String} $3:txHash
-- @param {String} $4:raw
-- @param {String} $5:reason
INSERT INTO chain_send_attempts (send_key, attempt, tx_hash, raw, status, reason)
SELECT send_key, $2, $3, $4, 'pending', $5 FROM chain_sends WHERE send_key = $1
ON CONFLICT DO NOTHING
RETURNING attempt
