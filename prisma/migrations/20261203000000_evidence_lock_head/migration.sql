-- The evidence chain's lock and its head in one round trip. Every recording transaction ends
-- with an append, and appends serialize on this lock from the head read to the commit: each
-- round trip held under it caps the chain's appends per second (docs/benchmarks.md, evidence).
-- One statement cannot take the lock and then read: its snapshot predates the wait. A VOLATILE
-- function takes a fresh snapshot for each query it runs, so the head is read after the lock
-- is granted and sees every append committed before it.
CREATE FUNCTION "evidence_lock_head"(lock_key bigint, dedupe text)
  RETURNS TABLE (seq text, hash text, dup boolean)
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  -- The entry already appended under this dedupe key (dup), and the chain's head. Ordered by
  -- the bigint seq: by text, "9" would sort after "10".
  RETURN QUERY
    (SELECT e.seq::text, e.hash, true FROM "evidence" e WHERE e.dedupe_key = dedupe)
    UNION ALL
    (SELECT e.seq::text, e.hash, false FROM "evidence" e ORDER BY e.seq DESC LIMIT 1);
END
$$;
