-- Webhook endpoints: per-object ordering (opt-out with 'none') and deletion that keeps history.
ALTER TABLE "webhook_endpoints" ADD COLUMN "ordering" TEXT NOT NULL DEFAULT 'sequence';
ALTER TABLE "webhook_endpoints" ADD COLUMN "deleted_at" TIMESTAMPTZ(3);
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_ordering_check" CHECK ("ordering" IN ('sequence', 'none'));
ALTER TABLE "webhook_endpoints" DROP CONSTRAINT "webhook_endpoints_status_check";
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_status_check" CHECK ("status" IN ('enabled', 'disabled', 'deleted'));
