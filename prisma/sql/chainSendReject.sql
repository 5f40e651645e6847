-- A send the network refused for good.
-- @param {String} $1:sendKey
UPDATE chain_sends SET status = 'rejected', updated_at = now() WHERE send_key = $1
RETURNING send_key
