-- RFC 6238 §5.2: a verifier must not accept the same one-time code twice. The last 30-second
-- step a code was accepted for is kept; a code for that step or an earlier one is refused.
ALTER TABLE "operators" ADD COLUMN "totp_last_step" BIGINT;
