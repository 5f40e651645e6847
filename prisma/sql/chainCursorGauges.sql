-- Every rail's chain cursor for the /metrics gauges: heights as float8 (a gauge's type) and the
-- age of its last update by the database's clock.
SELECT rail, head_height::float8 AS head_height, processed_height::float8 AS processed_height, finalized_height::float8 AS finalized_height,
       reorgs, extract(epoch FROM now() - updated_at)::float8 AS age_s
  FROM chain_cursors
