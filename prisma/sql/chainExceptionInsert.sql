-- Money the watcher could not match (or that reached a closed payment), once per transfer and
-- code; returns no row when it was recorded already (and is open, or closed by an operator).
-- @param {String} $1:id
-- @param {String} $2:rail
-- @param {String} $3:txHash
-- @param {Int} $4:logIndex
-- @param {String} $5:code
-- @param {String} $6:toAddress
-- @param {String} $7:amountMinor a decimal string of minor units
-- @param {String} $8:paymentId?
-- @param {String} $9:detail JSON
-- (The WHERE records nothing for a null id: TypedSQL's generator runs each statement once with
-- null arguments to learn its result's types, in a transaction it rolls back.)
INSERT INTO chain_exceptions (id, rail, tx_hash, log_index, code, to_address, amount_minor, payment_id, detail)
SELECT $1, $2, $3, $4, $5, $6, $7::numeric, $8, $9::jsonb WHERE $1::text IS NOT NULL
-- The same transfer mined again after a reorg closed its exception: open again (same id).
ON CONFLICT (rail, tx_hash, log_index, code) DO UPDATE
  SET status = 'open', resolution = NULL, resolved_by = NULL, reason = NULL, resolved_at = NULL
  WHERE chain_exceptions.status = 'resolved' AND chain_exceptions.resolution = 'reorged'
RETURNING id
