-- The transactions that paid a payment as the watcher matched them (reorged ones left out),
-- first mined first, at most `limit`.
-- @param {String} $1:rail
-- @param {String} $2:paymentId
-- @param {Int} $3:limit
SELECT tx_hash FROM chain_transfers WHERE rail = $1 AND payment_id = $2 AND removed_at IS NULL
 GROUP BY tx_hash ORDER BY min(block_height), tx_hash LIMIT $3
