-- Take the evidence chain's transaction-scoped lock (released at commit), then read the entry
-- already appended under this dedupe key (dup = true) and the chain's head (dup = false), both
-- after the lock is granted: the function evidence_lock_head (migration 20261203000000). seq is
-- text: a bigint crosses to JavaScript as a decimal string, like the pg form.
-- @param {BigInt} $1:lockKey
-- @param {String} $2:dedupeKey
SELECT seq, hash, dup FROM evidence_lock_head($1::bigint, $2::text)
