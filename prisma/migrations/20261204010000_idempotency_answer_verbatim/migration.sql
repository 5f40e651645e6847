-- An Idempotency-Key replay answers the first answer's JSON as it was written: `json` keeps the
-- text (key order included), where `jsonb` reordered the keys of the replayed answer.
-- AlterTable
ALTER TABLE "idempotency_keys" ALTER COLUMN "response_body" SET DATA TYPE JSON;
