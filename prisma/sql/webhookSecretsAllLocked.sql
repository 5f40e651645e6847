-- Every webhook signing secret, sealed, locked until the transaction ends (the master key's
-- rotation re-seals them all at once; a rotation or registration meanwhile waits for it).
SELECT id, endpoint_id, secret_ciphertext FROM webhook_secrets ORDER BY id FOR UPDATE
