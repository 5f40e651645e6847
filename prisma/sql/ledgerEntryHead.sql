-- A ledger entry's scope, for posting its reversal.
-- @param {String} $1:entryId
SELECT environment, merchant_id, payment_id, payout_id, rail, tx_hash, log_index FROM ledger_entries WHERE id = $1
