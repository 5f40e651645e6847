-- Every ledger line posted for a payment, entry by entry in effective order.
-- @param {String} $1:paymentId
-- @param {Int} $2:limit
SELECT e.id AS entry_id, e.cause, e.gate, e.tx_hash, e.log_index, e.reverses_id, e.effective_at, l.line_no, l.account_id, l.asset, l.amount_minor::text AS amount_minor
  FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id
 WHERE e.payment_id = $1 ORDER BY e.effective_at, e.id, l.line_no LIMIT $2
