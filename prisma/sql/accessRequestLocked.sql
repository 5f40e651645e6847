-- An access request, locked until the transaction ends: one decision per request, even when two
-- operators decide at once (Prisma Client reads take no row lock).
-- @param {String} $1:id
SELECT id, merchant_id, rails, status FROM access_requests WHERE id = $1 FOR UPDATE
