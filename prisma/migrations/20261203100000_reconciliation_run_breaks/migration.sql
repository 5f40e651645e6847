-- What each reconciliation run found, with the amounts it saw. A run's report used to be the
-- breaks still stamped with its id, so the next run (every 5 s on the devnet) emptied it.
-- CreateTable
CREATE TABLE "reconciliation_run_breaks" (
    "run_id" TEXT NOT NULL,
    "break_id" TEXT NOT NULL,
    "expected_minor" DECIMAL(78,0) NOT NULL,
    "actual_minor" DECIMAL(78,0) NOT NULL,
    "drift_minor" DECIMAL(78,0) NOT NULL,

    CONSTRAINT "reconciliation_run_breaks_pkey" PRIMARY KEY ("run_id","break_id")
);

-- Runs before this table: each break is known to have been found by the run that last saw it.
INSERT INTO "reconciliation_run_breaks" ("run_id", "break_id", "expected_minor", "actual_minor", "drift_minor")
SELECT "last_run_id", "id", "expected_minor", "actual_minor", "drift_minor" FROM "reconciliation_breaks";
