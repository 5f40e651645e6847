-- Payouts that survive a real chain (issue #16): `settled` at finality and `requires_review`
-- for a send that is stuck with nothing to replace it; destinations can be revoked; every
-- signed replacement of a stuck transaction (same nonce, bumped fees) is kept.

ALTER TABLE "payouts" DROP CONSTRAINT "payouts_status_check";
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_status_check"
    CHECK ("status" IN ('pending_approval', 'approved', 'signing', 'broadcast', 'confirmed', 'settled', 'failed', 'canceled', 'requires_review'));

ALTER TABLE "payout_destinations" DROP CONSTRAINT "payout_destinations_status_check";
ALTER TABLE "payout_destinations" ADD CONSTRAINT "payout_destinations_status_check"
    CHECK ("status" IN ('pending_approval', 'cooling_off', 'active', 'rejected', 'revoked'));

-- chain_sends.purpose gains nonce_fill: a zero-value self-transfer that takes a nonce the
-- node refused, so the later nonces of that wallet can be mined.
ALTER TABLE "chain_sends" DROP CONSTRAINT "chain_sends_purpose_check";
ALTER TABLE "chain_sends" ADD CONSTRAINT "chain_sends_purpose_check" CHECK ("purpose" IN ('payout', 'refund', 'sweep_gas', 'sweep', 'nonce_fill'));

-- Every signed version of one send: attempt 0 is the first signature, later attempts replace
-- it at the same nonce (EVM) or after its expiration (TRON). At most one is ever mined; the
-- winner is copied to chain_sends, the others are marked replaced.
CREATE TABLE "chain_send_attempts" (
    "send_key" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "tx_hash" TEXT NOT NULL,
    "raw" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "chain_send_attempts_pkey" PRIMARY KEY ("send_key", "attempt"),
    CONSTRAINT "chain_send_attempts_status_check" CHECK ("status" IN ('pending', 'mined', 'replaced'))
);
CREATE UNIQUE INDEX "chain_send_attempts_tx_hash_key" ON "chain_send_attempts"("tx_hash");

-- Which key signed a send (JSON KeyRef), so a replacement or a nonce fill is signed by the same
-- key; null on older rows, whose key is the rail's treasury for every purpose but `sweep`.
ALTER TABLE "chain_sends" ADD COLUMN "key_ref" TEXT;

-- A revoked address may be asked for again, like a rejected one.
DROP INDEX "payout_destinations_live_key";
CREATE UNIQUE INDEX "payout_destinations_live_key" ON "payout_destinations"("merchant_id", "environment", "rail", "address") WHERE "status" NOT IN ('rejected', 'revoked');
