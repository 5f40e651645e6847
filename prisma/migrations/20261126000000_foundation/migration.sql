-- CreateTable
CREATE TABLE "merchants" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "merchants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "scopes" TEXT[],
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "api_keys_environment_check" CHECK ("environment" IN ('sandbox', 'live'))
);

-- CreateTable
CREATE TABLE "access_requests" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "rails" TEXT[],
    "use_case" TEXT NOT NULL,
    "expected_volume" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "decided_by" TEXT,
    "decision_reason" TEXT,
    "decided_rails" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decided_at" TIMESTAMPTZ(3),
    CONSTRAINT "access_requests_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "access_requests_status_check" CHECK ("status" IN ('pending', 'approved', 'rejected'))
);

-- CreateTable
CREATE TABLE "rail_enablements" (
    "merchant_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "rail_id" TEXT NOT NULL,
    "enabled_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "rail_enablements_pkey" PRIMARY KEY ("merchant_id","environment","rail_id")
);

-- CreateTable
CREATE TABLE "payments" (
    "id" TEXT NOT NULL,
    "public_id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "rail" TEXT NOT NULL,
    "asset" TEXT NOT NULL,
    "amount_minor" DECIMAL(78,0) NOT NULL,
    "amount_received_minor" DECIMAL(78,0) NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL,
    "exception_code" TEXT,
    "deposit_address" TEXT NOT NULL,
    "address_index" BIGINT NOT NULL,
    "reference" TEXT NOT NULL,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seq" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "payments_pkey" PRIMARY KEY ("id"),
    -- The database refuses what the code must never do: a non-positive amount or an unknown status.
    CONSTRAINT "payments_amount_check" CHECK ("amount_minor" > 0 AND "amount_received_minor" >= 0),
    CONSTRAINT "payments_status_check" CHECK ("status" IN ('awaiting_payment', 'detected', 'confirmed', 'recognized', 'expired', 'canceled', 'requires_review', 'refunded', 'written_off'))
);

-- CreateTable
CREATE TABLE "payment_transitions" (
    "payment_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "from_status" TEXT,
    "to_status" TEXT NOT NULL,
    "cause" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "exception_code" TEXT,
    "reason" TEXT,
    "amount_received_minor" DECIMAL(78,0) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payment_transitions_pkey" PRIMARY KEY ("payment_id","seq")
);

-- CreateTable
CREATE TABLE "events" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "object_type" TEXT NOT NULL,
    "object_id" TEXT NOT NULL,
    "sequence" INTEGER NOT NULL,
    "data" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "evidence" (
    "seq" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "dedupe_key" TEXT NOT NULL,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "evidence_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "scope" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "response_status" INTEGER,
    "response_body" JSONB,
    "resource_id" TEXT,
    "locked_until" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),
    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("scope","key")
);

-- CreateTable
CREATE TABLE "deposit_addresses" (
    "rail" TEXT NOT NULL,
    "address_index" BIGINT NOT NULL,
    "address" TEXT NOT NULL,
    "payment_id" TEXT,
    "assigned_at" TIMESTAMPTZ(3),
    "released_at" TIMESTAMPTZ(3),
    CONSTRAINT "deposit_addresses_pkey" PRIMARY KEY ("rail","address_index")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_secret_hash_key" ON "api_keys"("secret_hash");

-- CreateIndex
CREATE INDEX "api_keys_merchant_id_environment_idx" ON "api_keys"("merchant_id", "environment");

-- CreateIndex
CREATE INDEX "access_requests_merchant_id_idx" ON "access_requests"("merchant_id");

-- CreateIndex
CREATE UNIQUE INDEX "payments_public_id_key" ON "payments"("public_id");

-- CreateIndex
CREATE INDEX "payments_merchant_id_environment_created_at_id_idx" ON "payments"("merchant_id", "environment", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "payments_merchant_id_environment_reference_idx" ON "payments"("merchant_id", "environment", "reference");

-- CreateIndex
CREATE INDEX "payments_rail_deposit_address_idx" ON "payments"("rail", "deposit_address");

-- CreateIndex
CREATE UNIQUE INDEX "events_object_id_sequence_key" ON "events"("object_id", "sequence");

-- CreateIndex
CREATE INDEX "events_merchant_id_environment_created_at_id_idx" ON "events"("merchant_id", "environment", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "evidence_dedupe_key_key" ON "evidence"("dedupe_key");

-- CreateIndex
CREATE INDEX "evidence_subject_idx" ON "evidence"("subject");

-- CreateIndex
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys"("created_at");

-- CreateIndex
CREATE INDEX "deposit_addresses_rail_address_idx" ON "deposit_addresses"("rail", "address");

-- Evidence is append-only: the database itself refuses an UPDATE or DELETE, so tampering
-- needs a superuser who disables the trigger, and `stablerail evidence verify` still catches it.
CREATE FUNCTION "evidence_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'evidence is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER "evidence_no_update" BEFORE UPDATE OR DELETE ON "evidence"
  FOR EACH ROW EXECUTE FUNCTION "evidence_append_only"();

-- Reuse of a deposit address comes from this pool, oldest release first.
CREATE INDEX "deposit_addresses_pool_idx" ON "deposit_addresses"("rail", "released_at") WHERE "payment_id" IS NULL;
