-- Block hashes as processed, linked by parent hash; a height seen before takes the new hash
-- (after a reorg rolled it back).
-- @param {String} $1:rail
-- @param $2:heights
-- @param $3:hashes
-- @param $4:parentHashes
WITH stored AS (
  INSERT INTO chain_blocks (rail, height, hash, parent_hash)
  SELECT $1, h, x, p FROM unnest($2::bigint[], $3::text[], $4::text[]) AS u(h, x, p)
  ON CONFLICT (rail, height) DO UPDATE SET hash = EXCLUDED.hash, parent_hash = EXCLUDED.parent_hash, created_at = now()
  RETURNING 1
)
SELECT count(*)::int AS stored FROM stored
