-- One break class of a reconciliation run, in one statement: its rows upserted into
-- reconciliation_breaks by fingerprint (a break keeps its id across runs; a resolved one is never
-- reopened), stamped with this run, and recorded as found by it (reconciliation_run_breaks). Every class is a branch gated on $7: PostgreSQL plans
-- each call with its parameters, so only the named class's branch is planned and run.
-- Each branch selects fingerprint, merchant_id, order_reference, payment_id, tx_hash, log_index,
-- entry_id, asset, expected, actual; drift is actual minus expected.
-- @param {String} $1:runId
-- @param {String} $2:environment
-- @param {String} $3:merchantId? only this merchant's breaks; null for an operator-wide run
-- @param {Int} $4:graceS work younger than this is in flight, not a break
-- @param $5:railIds the environment's rails
-- @param $6:railAssets each rail's asset, in the same order
-- @param {String} $7:breakClass
WITH found AS (
  -- Commerce says there is an order; no payment settled it (fulfilled orders), or none exists at all.
  SELECT 'order_without_payment:' || o.merchant_id || ':' || o.environment || ':' || o.reference AS fp, o.merchant_id, o.reference AS order_reference,
         NULL::text AS payment_id, NULL::text AS tx_hash, NULL::int AS log_index, NULL::text AS entry_id, o.asset, o.amount_minor AS expected, 0::numeric AS actual
    FROM orders o
   WHERE $7::text = 'order_without_payment'
     AND o.environment = $2 AND ($3::text IS NULL OR o.merchant_id = $3) AND o.status <> 'canceled'
     AND o.updated_at < now() - make_interval(secs => $4::int)
     AND NOT EXISTS (SELECT 1 FROM payments p WHERE (p.merchant_id, p.environment, p.reference) = (o.merchant_id, o.environment, o.reference) AND p.status IN ('confirmed', 'recognized'))
     AND (o.status = 'fulfilled' OR NOT EXISTS (SELECT 1 FROM payments p WHERE (p.merchant_id, p.environment, p.reference) = (o.merchant_id, o.environment, o.reference)))
  UNION ALL
  -- Money settled for a reference commerce does not know (only for merchants that send orders).
  SELECT 'payment_without_order:' || p.id, p.merchant_id, p.reference, p.id, NULL, NULL, NULL, p.asset, 0, p.amount_received_minor
    FROM payments p
   WHERE $7 = 'payment_without_order'
     AND p.environment = $2 AND ($3 IS NULL OR p.merchant_id = $3) AND p.updated_at < now() - make_interval(secs => $4) AND p.status IN ('confirmed', 'recognized')
     AND EXISTS (SELECT 1 FROM orders o2 WHERE o2.merchant_id = p.merchant_id AND o2.environment = p.environment)
     AND NOT EXISTS (SELECT 1 FROM orders o WHERE (o.merchant_id, o.environment, o.reference) = (p.merchant_id, p.environment, p.reference))
  UNION ALL
  SELECT 'amount_mismatch:' || p.id, p.merchant_id, p.reference, p.id, NULL, NULL, NULL, p.asset, o.amount_minor, p.amount_received_minor
    FROM payments p JOIN orders o ON (o.merchant_id, o.environment, o.reference) = (p.merchant_id, p.environment, p.reference)
   WHERE $7 = 'amount_mismatch'
     AND p.environment = $2 AND ($3 IS NULL OR p.merchant_id = $3) AND p.updated_at < now() - make_interval(secs => $4) AND p.status IN ('confirmed', 'recognized')
     AND o.status <> 'canceled' AND (o.amount_minor <> p.amount_received_minor OR o.asset <> p.asset)
  UNION ALL
  -- On chain, to one of our addresses, and no payment claims it (operator-wide runs only).
  SELECT 'transfer_without_payment:' || t.rail || ':' || lower(t.tx_hash) || ':' || t.log_index, NULL, NULL, NULL, t.tx_hash, t.log_index, NULL, r.asset, 0, t.amount_minor
    FROM chain_transfers t JOIN unnest($5::text[], $6::text[]) AS r(rail, asset) ON r.rail = t.rail
   WHERE $7 = 'transfer_without_payment'
     AND $3 IS NULL AND t.removed_at IS NULL AND t.payment_id IS NULL AND t.updated_at < now() - make_interval(secs => $4)
     -- An operator closed this money's chain exception as returned, written off or a false
     -- positive: decided on the record, with evidence, so it is not left open here as well.
     -- (Credited money stays a break until finance matches it to the posting that credited it.)
     AND NOT EXISTS (SELECT 1 FROM chain_exceptions x WHERE x.rail = t.rail AND lower(x.tx_hash) = lower(t.tx_hash) AND x.log_index = t.log_index
                       AND x.status = 'resolved' AND x.resolution IN ('returned', 'written_off', 'false_positive'))
  UNION ALL
  SELECT 'confirmed_without_posting:' || p.id || ':' || lower(t.tx_hash) || ':' || t.log_index, p.merchant_id, p.reference, p.id, t.tx_hash, t.log_index, NULL, p.asset, t.amount_minor, 0
    FROM payments p JOIN chain_transfers t ON t.payment_id = p.id AND t.removed_at IS NULL
   WHERE $7 = 'confirmed_without_posting'
     AND p.environment = $2 AND ($3 IS NULL OR p.merchant_id = $3) AND p.updated_at < now() - make_interval(secs => $4) AND p.status IN ('confirmed', 'recognized')
     AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.payment_id = p.id AND e.gate = 'confirmed' AND lower(e.tx_hash) = lower(t.tx_hash) AND e.log_index = t.log_index
                       AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = e.id))
     -- Late money to a closed payment whose chain exception an operator closed: likewise.
     AND NOT EXISTS (SELECT 1 FROM chain_exceptions x WHERE x.rail = t.rail AND lower(x.tx_hash) = lower(t.tx_hash) AND x.log_index = t.log_index
                       AND x.status = 'resolved' AND x.resolution IN ('returned', 'written_off', 'false_positive'))
  UNION ALL
  SELECT 'recognized_without_posting:' || p.id || ':' || lower(t.tx_hash) || ':' || t.log_index, p.merchant_id, p.reference, p.id, t.tx_hash, t.log_index, NULL, p.asset, t.amount_minor, 0
    FROM payments p JOIN chain_transfers t ON t.payment_id = p.id AND t.removed_at IS NULL
   WHERE $7 = 'recognized_without_posting'
     AND p.environment = $2 AND ($3 IS NULL OR p.merchant_id = $3) AND p.updated_at < now() - make_interval(secs => $4) AND p.status = 'recognized'
     AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.payment_id = p.id AND e.gate = 'recognized' AND lower(e.tx_hash) = lower(t.tx_hash) AND e.log_index = t.log_index
                       AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = e.id))
     -- Held as pending and never moved on: a transfer with no posting at all is already
     -- confirmed_without_posting, and one transfer is one break (its drift counted once).
     AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.payment_id = p.id AND e.gate = 'confirmed' AND lower(e.tx_hash) = lower(t.tx_hash) AND e.log_index = t.log_index
                   AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = e.id))
  UNION ALL
  -- Finance holds money for a transfer the chain never showed us.
  SELECT 'posting_without_transfer:' || e.id, e.merchant_id, p.reference, e.payment_id, e.tx_hash, e.log_index, e.id, l.asset, 0, l.amount_minor
    FROM ledger_entries e
    JOIN ledger_lines l ON l.entry_id = e.id AND l.amount_minor > 0
    LEFT JOIN payments p ON p.id = e.payment_id
   WHERE $7 = 'posting_without_transfer'
     AND e.environment = $2 AND ($3 IS NULL OR e.merchant_id = $3) AND e.gate = 'confirmed' AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = e.id)
     AND e.effective_at < now() - make_interval(secs => $4)
     AND NOT EXISTS (SELECT 1 FROM chain_transfers t WHERE t.rail = e.rail AND lower(t.tx_hash) = lower(e.tx_hash) AND t.log_index = e.log_index)
  UNION ALL
  -- Finance still holds money for a transfer a reorg removed.
  SELECT 'reorged_with_posting:' || e.id, e.merchant_id, p.reference, e.payment_id, e.tx_hash, e.log_index, e.id, l.asset, 0, l.amount_minor
    FROM ledger_entries e
    JOIN ledger_lines l ON l.entry_id = e.id AND l.amount_minor > 0
    JOIN chain_transfers t ON t.rail = e.rail AND lower(t.tx_hash) = lower(e.tx_hash) AND t.log_index = e.log_index AND t.removed_at IS NOT NULL
    LEFT JOIN payments p ON p.id = e.payment_id
   WHERE $7 = 'reorged_with_posting'
     AND e.environment = $2 AND ($3 IS NULL OR e.merchant_id = $3) AND e.gate IN ('confirmed', 'recognized') AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = e.id)
     AND t.removed_at < now() - make_interval(secs => $4)
  UNION ALL
  -- We booked a payout (or refund) as paid; the chain shows no such transfer leaving the treasury.
  SELECT 'payout_without_transfer:' || po.id, po.merchant_id, po.reference, po.payment_id, po.tx_hash, NULL, NULL, po.asset, po.amount_minor, 0
    FROM payouts po
   WHERE $7 = 'payout_without_transfer'
     AND po.environment = $2 AND ($3 IS NULL OR po.merchant_id = $3) AND po.status IN ('confirmed', 'settled')
     AND po.updated_at < now() - make_interval(secs => $4)
     AND NOT EXISTS (SELECT 1 FROM treasury_transfers t WHERE t.rail = po.rail AND lower(t.tx_hash) = lower(po.tx_hash) AND t.removed_at IS NULL
                       AND t.to_address = po.destination_address AND t.amount_minor = po.amount_minor)
  UNION ALL
  -- Money left a treasury wallet and no payout, refund or sweep of ours sent it (operator-wide runs only).
  SELECT 'transfer_without_payout:' || t.rail || ':' || lower(t.tx_hash) || ':' || t.log_index, NULL, NULL, NULL, t.tx_hash, t.log_index, NULL, r.asset, 0, t.amount_minor
    FROM treasury_transfers t JOIN unnest($5::text[], $6::text[]) AS r(rail, asset) ON r.rail = t.rail
   WHERE $7 = 'transfer_without_payout'
     AND $3 IS NULL AND t.removed_at IS NULL AND t.created_at < now() - make_interval(secs => $4)
     AND NOT EXISTS (SELECT 1 FROM chain_sends s WHERE s.rail = t.rail AND lower(s.tx_hash) = lower(t.tx_hash) AND s.environment = $2 AND s.status <> 'rejected'
                       -- a send whose payout we booked as failed or canceled did not pay out, as far as the ledger knows
                       AND NOT EXISTS (SELECT 1 FROM payouts po WHERE po.rail = s.rail AND lower(po.tx_hash) = lower(s.tx_hash) AND po.status IN ('failed', 'canceled')))
), upserted AS (
  INSERT INTO reconciliation_breaks AS b (id, fingerprint, class, environment, merchant_id, order_reference, payment_id, tx_hash, log_index, entry_id,
                                          asset, expected_minor, actual_minor, drift_minor, status, first_run_id, last_run_id)
  SELECT 'brk_' || substr(md5(x.fp), 1, 24), x.fp, $7, $2, x.merchant_id, x.order_reference, x.payment_id, x.tx_hash,
         x.log_index, x.entry_id, x.asset, x.expected, x.actual, x.actual - x.expected, 'open', $1, $1
    FROM found x
  ON CONFLICT (fingerprint) DO UPDATE
    SET last_run_id = EXCLUDED.last_run_id, status = 'open',
        expected_minor = EXCLUDED.expected_minor, actual_minor = EXCLUDED.actual_minor, drift_minor = EXCLUDED.drift_minor
    WHERE b.status <> 'resolved'
  RETURNING b.id, b.expected_minor, b.actual_minor, b.drift_minor
), found_by_run AS (
  -- The run's own report: what it found, kept when later runs stamp or clear these breaks.
  INSERT INTO reconciliation_run_breaks (run_id, break_id, expected_minor, actual_minor, drift_minor)
  SELECT $1, u.id, u.expected_minor, u.actual_minor, u.drift_minor FROM upserted u
  ON CONFLICT (run_id, break_id) DO NOTHING
)
SELECT count(*)::int AS breaks FROM upserted
