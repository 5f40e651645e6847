-- CreateTable
CREATE TABLE "ledger_accounts" (
    "id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "owner_type" TEXT NOT NULL,
    "owner_id" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "asset" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ledger_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" TEXT NOT NULL,
    "cause" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "merchant_id" TEXT,
    "payment_id" TEXT,
    "rail" TEXT,
    "tx_hash" TEXT,
    "log_index" INTEGER,
    "gate" TEXT NOT NULL,
    "reverses_id" TEXT,
    "memo" TEXT,
    "effective_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_lines" (
    "entry_id" TEXT NOT NULL,
    "line_no" INTEGER NOT NULL,
    "account_id" TEXT NOT NULL,
    "asset" TEXT NOT NULL,
    "amount_minor" DECIMAL(78,0) NOT NULL,
    "effective_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "ledger_lines_pkey" PRIMARY KEY ("entry_id","line_no"),
    -- A zero line carries no meaning and would hide a bug.
    CONSTRAINT "ledger_lines_amount_check" CHECK ("amount_minor" <> 0)
);

-- CreateIndex
CREATE INDEX "ledger_accounts_owner_type_owner_id_environment_idx" ON "ledger_accounts"("owner_type", "owner_id", "environment");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entries_cause_key" ON "ledger_entries"("cause");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entries_reverses_id_key" ON "ledger_entries"("reverses_id");

-- CreateIndex
CREATE INDEX "ledger_entries_environment_merchant_id_effective_at_idx" ON "ledger_entries"("environment", "merchant_id", "effective_at");

-- CreateIndex
CREATE INDEX "ledger_entries_payment_id_idx" ON "ledger_entries"("payment_id");

-- CreateIndex
CREATE INDEX "ledger_lines_account_id_effective_at_idx" ON "ledger_lines"("account_id", "effective_at");

-- AddForeignKey-like guards Prisma does not model: lines point at real entries and accounts.
ALTER TABLE "ledger_lines" ADD CONSTRAINT "ledger_lines_entry_fkey" FOREIGN KEY ("entry_id") REFERENCES "ledger_entries"("id");
ALTER TABLE "ledger_lines" ADD CONSTRAINT "ledger_lines_account_fkey" FOREIGN KEY ("account_id") REFERENCES "ledger_accounts"("id");
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_reverses_fkey" FOREIGN KEY ("reverses_id") REFERENCES "ledger_entries"("id");

-- Postings are immutable: corrections are reversals, never edits.
CREATE FUNCTION "ledger_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger rows are immutable (% on %); post a reversal instead', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER "ledger_entries_immutable" BEFORE UPDATE OR DELETE ON "ledger_entries" FOR EACH ROW EXECUTE FUNCTION "ledger_immutable"();
CREATE TRIGGER "ledger_lines_immutable" BEFORE UPDATE OR DELETE ON "ledger_lines" FOR EACH ROW EXECUTE FUNCTION "ledger_immutable"();

-- Every entry balances per asset and has at least two lines, checked at commit so an entry's
-- lines can be inserted one statement at a time.
CREATE FUNCTION "ledger_entry_balanced"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unbalanced TEXT;
  n INTEGER;
BEGIN
  SELECT count(*) INTO n FROM ledger_lines WHERE entry_id = NEW.entry_id;
  IF n < 2 THEN
    RAISE EXCEPTION 'ledger entry % has % line(s); a posting needs at least two', NEW.entry_id, n;
  END IF;
  SELECT string_agg(asset || '=' || s::text, ', ') INTO unbalanced
    FROM (SELECT asset, sum(amount_minor) AS s FROM ledger_lines WHERE entry_id = NEW.entry_id GROUP BY asset) t
   WHERE s <> 0;
  IF unbalanced IS NOT NULL THEN
    RAISE EXCEPTION 'ledger entry % does not balance: %', NEW.entry_id, unbalanced;
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER "ledger_lines_balanced" AFTER INSERT ON "ledger_lines"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "ledger_entry_balanced"();
