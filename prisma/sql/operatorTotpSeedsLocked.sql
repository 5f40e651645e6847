-- Every operator's sealed TOTP seed, locked until the transaction ends (the master key's rotation).
SELECT id, totp_secret_sealed FROM operators WHERE totp_secret_sealed IS NOT NULL ORDER BY id FOR UPDATE
