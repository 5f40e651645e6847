-- A batch of the evidence chain from a seq on, as the verifier hashes it: seq as text, created_at
-- as the ISO 8601 string the hash sealed (UTC, milliseconds).
-- @param {String} $1:fromSeq a decimal string
-- @param {Int} $2:limit
SELECT seq::text AS seq, kind, subject, actor, payload, dedupe_key, prev_hash, hash,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
  FROM evidence WHERE seq >= $1::bigint ORDER BY evidence.seq LIMIT $2
