-- Payouts, refunds and sweeps (issue #7). No private key is stored anywhere in this schema:
-- chain_sends keeps the signed bytes a signer returned, so a crash between signing and
-- broadcasting rebroadcasts the same transaction instead of signing a second one.

-- Per-merchant payout policy: above dual_approval_above_minor two different operators approve.
CREATE TABLE "merchant_payout_settings" (
    "merchant_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "dual_approval_above_minor" DECIMAL(78,0) NOT NULL,
    "updated_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "merchant_payout_settings_pkey" PRIMARY KEY ("merchant_id", "environment"),
    CONSTRAINT "merchant_payout_settings_amount_check" CHECK ("dual_approval_above_minor" >= 0)
);

CREATE TABLE "payout_destinations" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "rail" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "requested_by" TEXT NOT NULL,
    "decided_by" TEXT,
    "reason" TEXT,
    "usable_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payout_destinations_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "payout_destinations_status_check" CHECK ("status" IN ('pending_approval', 'cooling_off', 'active', 'rejected'))
);
CREATE INDEX "payout_destinations_merchant_id_environment_rail_address_idx" ON "payout_destinations"("merchant_id", "environment", "rail", "address");
-- One live entry per address: a rejected one may be requested again.
CREATE UNIQUE INDEX "payout_destinations_live_key" ON "payout_destinations"("merchant_id", "environment", "rail", "address") WHERE "status" <> 'rejected';

CREATE TABLE "payouts" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "rail" TEXT NOT NULL,
    "asset" TEXT NOT NULL,
    "amount_minor" DECIMAL(78,0) NOT NULL,
    "destination_id" TEXT,
    "destination_address" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "payment_id" TEXT,
    "status" TEXT NOT NULL,
    "approvals_required" INTEGER NOT NULL,
    "last_seq" INTEGER NOT NULL DEFAULT 1,
    "hold_entry_id" TEXT NOT NULL,
    "tx_hash" TEXT,
    "nonce" INTEGER,
    "from_address" TEXT,
    "network_fee_minor" DECIMAL(78,0),
    "network_fee_asset" TEXT,
    "block_height" BIGINT,
    "failure_code" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payouts_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "payouts_kind_check" CHECK ("kind" IN ('payout', 'refund')),
    CONSTRAINT "payouts_amount_check" CHECK ("amount_minor" > 0),
    CONSTRAINT "payouts_status_check" CHECK ("status" IN ('pending_approval', 'approved', 'signing', 'broadcast', 'confirmed', 'failed', 'canceled'))
);
CREATE INDEX "payouts_merchant_id_environment_created_at_id_idx" ON "payouts"("merchant_id", "environment", "created_at" DESC, "id" DESC);
CREATE INDEX "payouts_rail_tx_hash_idx" ON "payouts"("rail", "tx_hash");
CREATE INDEX "payouts_payment_id_idx" ON "payouts"("payment_id");

CREATE TABLE "payout_transitions" (
    "payout_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "from_status" TEXT,
    "to_status" TEXT NOT NULL,
    "cause" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payout_transitions_pkey" PRIMARY KEY ("payout_id", "seq")
);

CREATE TABLE "payout_approvals" (
    "payout_id" TEXT NOT NULL,
    "operator" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payout_approvals_pkey" PRIMARY KEY ("payout_id", "operator")
);

-- Every transaction Stablerail has signed, keyed by what it is for (payout:po_…, sweep:sw_…:…).
CREATE TABLE "chain_sends" (
    "send_key" TEXT NOT NULL,
    "rail" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "from_address" TEXT NOT NULL,
    "to_address" TEXT NOT NULL,
    "asset" TEXT NOT NULL,
    "amount_minor" DECIMAL(78,0) NOT NULL,
    "nonce" INTEGER,
    "tx_hash" TEXT NOT NULL,
    "raw" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "fee_minor" DECIMAL(78,0),
    "fee_asset" TEXT NOT NULL,
    "block_height" BIGINT,
    "block_hash" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "chain_sends_pkey" PRIMARY KEY ("send_key"),
    CONSTRAINT "chain_sends_purpose_check" CHECK ("purpose" IN ('payout', 'refund', 'sweep_gas', 'sweep')),
    CONSTRAINT "chain_sends_status_check" CHECK ("status" IN ('signed', 'broadcast', 'executed', 'reverted', 'rejected'))
);
CREATE UNIQUE INDEX "chain_sends_rail_tx_hash_key" ON "chain_sends"("rail", "tx_hash");
-- Two signed transactions never share a nonce: that would be two payments where one was meant.
CREATE UNIQUE INDEX "chain_sends_nonce_key" ON "chain_sends"("rail", "from_address", "nonce") WHERE "nonce" IS NOT NULL AND "status" <> 'rejected';

-- The next EVM nonce per sending address, handed out under a row lock.
CREATE TABLE "signer_nonces" (
    "rail" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "next_nonce" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "signer_nonces_pkey" PRIMARY KEY ("rail", "address")
);

-- The rails' treasury (hot wallet) addresses, as the signer names them: the watcher records
-- every token transfer leaving them, the provider truth payouts reconcile against.
CREATE TABLE "treasury_wallets" (
    "rail" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "treasury_wallets_pkey" PRIMARY KEY ("rail")
);

CREATE TABLE "treasury_transfers" (
    "rail" TEXT NOT NULL,
    "tx_hash" TEXT NOT NULL,
    "log_index" INTEGER NOT NULL,
    "block_height" BIGINT NOT NULL,
    "block_hash" TEXT NOT NULL,
    "from_address" TEXT NOT NULL,
    "to_address" TEXT NOT NULL,
    "amount_minor" DECIMAL(78,0) NOT NULL,
    "removed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "treasury_transfers_pkey" PRIMARY KEY ("rail", "tx_hash", "log_index")
);
CREATE INDEX "treasury_transfers_rail_block_height_idx" ON "treasury_transfers"("rail", "block_height");

CREATE TABLE "sweeps" (
    "id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "rail" TEXT NOT NULL,
    "treasury_address" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "plan" JSONB NOT NULL,
    "result" JSONB,
    "planned_by" TEXT NOT NULL,
    "executed_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "sweeps_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "sweeps_status_check" CHECK ("status" IN ('planned', 'running', 'completed', 'failed', 'canceled'))
);

-- A refund address the payer gave on the public page, for an operator's refund decision.
ALTER TABLE "payments" ADD COLUMN "refund_address" TEXT;
