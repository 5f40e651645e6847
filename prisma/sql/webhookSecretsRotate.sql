-- Every secret that signs now stops at the end of the overlap (one already ending sooner keeps
-- its end); answers the latest end, when the previous secrets stop signing.
-- @param {String} $1:endpointId
-- @param {Int} $2:overlapS
WITH ending AS (
  UPDATE webhook_secrets SET expires_at = LEAST(COALESCE(expires_at, 'infinity'), now() + make_interval(secs => $2))
   WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > now())
  RETURNING expires_at
)
SELECT max(expires_at) AS previous_expires_at FROM ending
