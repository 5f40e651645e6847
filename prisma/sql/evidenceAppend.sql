-- Append one entry after the head read under the lock (activities/evidence.ts computes its hash).
-- @param {String} $1:seq a decimal string: the head's seq + 1
-- @param {String} $2:kind
-- @param {String} $3:subject
-- @param {String} $4:actor
-- @param {String} $5:payload the payload's JSON text, exactly as hashed
-- @param {String} $6:dedupeKey
-- @param {String} $7:prevHash
-- @param {String} $8:hash
-- @param {String} $9:createdAt ISO 8601, exactly as hashed
-- (The WHERE appends nothing for a null seq: TypedSQL's generator runs each statement once with
-- null arguments to learn its result's types, in a transaction it rolls back.)
INSERT INTO evidence (seq, kind, subject, actor, payload, dedupe_key, prev_hash, hash, created_at)
SELECT $1::bigint, $2, $3, $4, $5::jsonb, $6, $7, $8, $9::timestamptz WHERE $1 IS NOT NULL
RETURNING seq::text AS seq
