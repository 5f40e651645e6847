-- CreateTable
CREATE TABLE "orders" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "amount_minor" DECIMAL(78,0) NOT NULL,
    "asset" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "orders_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "orders_status_check" CHECK ("status" IN ('open', 'fulfilled', 'canceled')),
    CONSTRAINT "orders_amount_check" CHECK ("amount_minor" > 0)
);

-- CreateIndex
CREATE UNIQUE INDEX "orders_merchant_id_environment_reference_key" ON "orders"("merchant_id", "environment", "reference");
