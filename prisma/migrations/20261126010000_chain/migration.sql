-- CreateTable
CREATE TABLE "chain_cursors" (
    "rail" TEXT NOT NULL,
    "processed_height" BIGINT NOT NULL,
    "processed_hash" TEXT NOT NULL,
    "head_height" BIGINT NOT NULL,
    "finalized_height" BIGINT NOT NULL,
    "reorgs" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "chain_cursors_pkey" PRIMARY KEY ("rail")
);

-- CreateTable
CREATE TABLE "chain_blocks" (
    "rail" TEXT NOT NULL,
    "height" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,
    "parent_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "chain_blocks_pkey" PRIMARY KEY ("rail","height")
);

-- CreateTable
CREATE TABLE "chain_transfers" (
    "rail" TEXT NOT NULL,
    "tx_hash" TEXT NOT NULL,
    "log_index" INTEGER NOT NULL,
    "block_height" BIGINT NOT NULL,
    "block_hash" TEXT NOT NULL,
    "from_address" TEXT NOT NULL,
    "to_address" TEXT NOT NULL,
    "amount_minor" DECIMAL(78,0) NOT NULL,
    "payment_id" TEXT,
    "removed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "chain_transfers_pkey" PRIMARY KEY ("rail","tx_hash","log_index"),
    CONSTRAINT "chain_transfers_amount_check" CHECK ("amount_minor" >= 0)
);

-- CreateTable
CREATE TABLE "payment_chain_views" (
    "payment_id" TEXT NOT NULL,
    "rail" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "digest" TEXT NOT NULL,
    "settled" BOOLEAN NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payment_chain_views_pkey" PRIMARY KEY ("payment_id")
);

-- CreateTable
CREATE TABLE "chain_exceptions" (
    "id" TEXT NOT NULL,
    "rail" TEXT NOT NULL,
    "tx_hash" TEXT NOT NULL,
    "log_index" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "to_address" TEXT NOT NULL,
    "amount_minor" DECIMAL(78,0) NOT NULL,
    "payment_id" TEXT,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "status" TEXT NOT NULL DEFAULT 'open',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "chain_exceptions_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "chain_exceptions_status_check" CHECK ("status" IN ('open', 'resolved'))
);

-- CreateIndex
CREATE INDEX "chain_transfers_rail_payment_id_idx" ON "chain_transfers"("rail", "payment_id");

-- CreateIndex
CREATE INDEX "chain_transfers_rail_block_height_idx" ON "chain_transfers"("rail", "block_height");

-- CreateIndex
CREATE INDEX "payment_chain_views_rail_settled_idx" ON "payment_chain_views"("rail", "settled");

-- CreateIndex
CREATE UNIQUE INDEX "chain_exceptions_rail_tx_hash_log_index_code_key" ON "chain_exceptions"("rail", "tx_hash", "log_index", "code");
