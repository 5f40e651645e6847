-- The entry already appended under this dedupe key (dup = true), and the chain's head (dup =
-- false). seq is text: a bigint crosses to JavaScript as a decimal string, like the pg form.
-- The head is ordered by e.seq, the bigint: by text, "9" sorts after "10".
-- @param {String} $1:dedupeKey
(SELECT seq::text AS seq, hash, true AS dup FROM evidence WHERE dedupe_key = $1)
UNION ALL
(SELECT e.seq::text AS seq, e.hash, false AS dup FROM evidence e ORDER BY e.seq DESC LIMIT 1)
