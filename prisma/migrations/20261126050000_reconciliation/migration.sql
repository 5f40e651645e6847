-- AlterTable
ALTER TABLE "payments" ADD COLUMN "reconciled_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "reconciliation_runs" (
    "id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "merchant_id" TEXT,
    "status" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "requested_by" TEXT NOT NULL,
    "progress" JSONB NOT NULL DEFAULT '{}',
    "summary" JSONB NOT NULL DEFAULT '{}',
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "reconciliation_runs_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "reconciliation_runs_status_check" CHECK ("status" IN ('running', 'completed', 'failed'))
);

-- CreateTable
CREATE TABLE "reconciliation_breaks" (
    "id" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "class" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "merchant_id" TEXT,
    "order_reference" TEXT,
    "payment_id" TEXT,
    "tx_hash" TEXT,
    "log_index" INTEGER,
    "entry_id" TEXT,
    "asset" TEXT NOT NULL,
    "expected_minor" DECIMAL(78,0) NOT NULL,
    "actual_minor" DECIMAL(78,0) NOT NULL,
    "drift_minor" DECIMAL(78,0) NOT NULL,
    "status" TEXT NOT NULL,
    "first_run_id" TEXT NOT NULL,
    "last_run_id" TEXT NOT NULL,
    "resolved_by" TEXT,
    "resolution" TEXT,
    "reason" TEXT,
    "resolved_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "reconciliation_breaks_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "reconciliation_breaks_status_check" CHECK ("status" IN ('open', 'cleared', 'resolved'))
);

-- CreateIndex
CREATE INDEX "reconciliation_runs_environment_started_at_idx" ON "reconciliation_runs"("environment", "started_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "reconciliation_breaks_fingerprint_key" ON "reconciliation_breaks"("fingerprint");

-- CreateIndex
CREATE INDEX "reconciliation_breaks_last_run_id_idx" ON "reconciliation_breaks"("last_run_id");

-- CreateIndex
CREATE INDEX "reconciliation_breaks_environment_status_idx" ON "reconciliation_breaks"("environment", "status");
