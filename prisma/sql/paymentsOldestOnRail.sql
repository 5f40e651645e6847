-- When the rail's oldest payment was created (null: none yet): a new cursor starts before it.
-- @param {String} $1:rail
SELECT min(created_at) AS at FROM payments WHERE rail = $1
