-- A signed send handed to the network.
-- @param {String} $1:sendKey
UPDATE chain_sends SET status = 'broadcast', updated_at = now() WHERE send_key = $1 AND status = 'signed'
RETURNING send_key
