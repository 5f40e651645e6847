-- The lines of an environment's entries (one merchant's, or all), oldest first, keyset-paged.
-- @param {String} $1:environment
-- @param {String} $2:merchantId? only this merchant's entries; null for all
-- @param {DateTime} $3:asOf? entries effective at or before; null for now
-- @param {String} $4:afterEntryId? the page starts after this entry (by effective time, then id)
-- @param {Int} $5:lineLimit lines to read at most
SELECT l.entry_id, l.line_no, l.effective_at, l.account_id AS account, a.purpose, l.asset, l.amount_minor::text AS amount_minor,
       e.gate, e.payment_id, e.payout_id, p.reference, e.tx_hash, e.log_index, e.rail, e.reverses_id, e.memo
  FROM ledger_entries e
  JOIN ledger_lines l ON l.entry_id = e.id
  JOIN ledger_accounts a ON a.id = l.account_id
  LEFT JOIN payments p ON p.id = e.payment_id
 WHERE e.environment = $1 AND ($2::text IS NULL OR e.merchant_id = $2)
   AND ($3::timestamptz IS NULL OR e.effective_at <= $3)
   AND ($4::text IS NULL OR (e.effective_at, e.id) > (SELECT effective_at, id FROM ledger_entries WHERE id = $4))
 ORDER BY e.effective_at, e.id, l.line_no
 LIMIT $5
