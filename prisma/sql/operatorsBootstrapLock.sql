-- One bootstrap of a first admin at a time across processes, until the transaction ends: the
-- "no operator yet" check and the insert are one decision.
SELECT 1::int AS locked FROM pg_advisory_xact_lock(hashtext('stablerail.operators.bootstrap'))
