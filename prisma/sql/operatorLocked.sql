-- An operator's row, locked until the transaction ends: a change and the "before" its evidence
-- records are one decision (Prisma Client reads take no row lock).
-- @param {String} $1:id
SELECT id, email, name, role, status, totp_secret_sealed AS "totpSecretSealed" FROM operators WHERE id = $1 FOR UPDATE
