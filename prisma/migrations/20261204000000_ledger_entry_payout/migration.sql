-- A payout's (and a refund's) postings name it in their own column, so finance filters a
-- payout's hold, in-flight, settlement, release and network fee without reading memos.
-- AlterTable
ALTER TABLE "ledger_entries" ADD COLUMN     "payout_id" TEXT;

-- Entries posted before the column get it too: a payout's own causes start with
-- `payout:<id>/` (their reorg reversals too); its network fee names it in the memo ("network fee
-- of payout po_…"). Postings are immutable (ledger_immutable): the trigger is off for this one
-- statement pair only, which fills the new column and changes no amount, account or cause.
ALTER TABLE "ledger_entries" DISABLE TRIGGER "ledger_entries_immutable";
UPDATE "ledger_entries" SET "payout_id" = split_part(substr("cause", 8), '/', 1) WHERE "cause" LIKE 'payout:%';
UPDATE "ledger_entries" SET "payout_id" = substring("memo" from 'po_[A-Za-z0-9]+')
 WHERE "payout_id" IS NULL AND "gate" = 'network_fee' AND "memo" ~ '^network fee of (payout|refund) po_';
ALTER TABLE "ledger_entries" ENABLE TRIGGER "ledger_entries_immutable";

-- CreateIndex
CREATE INDEX "ledger_entries_payout_id_idx" ON "ledger_entries"("payout_id");
