-- Every evidence entry about one subject, in chain order; created_at as the ISO 8601 string the
-- hash sealed (UTC, milliseconds).
-- @param {String} $1:subject
SELECT seq::text AS seq, kind, subject, actor, payload, dedupe_key, prev_hash, hash,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
  FROM evidence WHERE subject = $1 ORDER BY evidence.seq
