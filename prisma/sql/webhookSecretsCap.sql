-- Beyond `keep` secrets that sign now, the oldest ones end now.
-- @param {String} $1:endpointId
-- @param {Int} $2:keep
WITH ended AS (
  UPDATE webhook_secrets SET expires_at = now()
   WHERE id IN (SELECT id FROM webhook_secrets WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > now())
                 ORDER BY created_at DESC OFFSET $2)
  RETURNING 1
)
SELECT count(*)::int AS ended FROM ended
