-- Chain exceptions can be closed: by an operator (with a resolution and a reason, as evidence),
-- or by the watcher when a reorg takes the transfer off the chain (resolution `reorged`).
-- AlterTable
ALTER TABLE "chain_exceptions" ADD COLUMN     "reason" TEXT,
ADD COLUMN     "resolution" TEXT,
ADD COLUMN     "resolved_at" TIMESTAMPTZ(3),
ADD COLUMN     "resolved_by" TEXT;

-- CreateIndex
CREATE INDEX "chain_exceptions_status_created_at_idx" ON "chain_exceptions"("status", "created_at" DESC);
