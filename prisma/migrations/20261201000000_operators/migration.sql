-- Operators are people (issue #12): one account per person, a role, personal API tokens,
-- console sessions and a log of sign-in attempts. Secrets are stored only as hashes.

CREATE TABLE "operators" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    -- scrypt, "scrypt$N$r$p$salt$hash" (base64url); null until a password is set
    "password_hash" TEXT,
    -- the TOTP secret (base32), sealed with the master key; enrolled once confirmed
    "totp_secret_sealed" TEXT,
    "totp_enrolled_at" TIMESTAMPTZ(3),
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3),
    CONSTRAINT "operators_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "operators_role_check" CHECK ("role" IN ('viewer', 'operator', 'approver', 'admin')),
    CONSTRAINT "operators_status_check" CHECK ("status" IN ('active', 'disabled'))
);
-- emails are stored lower-cased by the code, so a plain unique index is the case-insensitive rule
CREATE UNIQUE INDEX "operators_email_key" ON "operators"("email");

CREATE TABLE "operator_tokens" (
    "id" TEXT NOT NULL,
    "operator_id" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "label" TEXT,
    -- a token may carry less than its operator's role, never more
    "role" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    CONSTRAINT "operator_tokens_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "operator_tokens_operator_fkey" FOREIGN KEY ("operator_id") REFERENCES "operators"("id"),
    CONSTRAINT "operator_tokens_role_check" CHECK ("role" IN ('viewer', 'operator', 'approver', 'admin'))
);
CREATE UNIQUE INDEX "operator_tokens_secret_hash_key" ON "operator_tokens"("secret_hash");
CREATE INDEX "operator_tokens_operator_id_idx" ON "operator_tokens"("operator_id");

CREATE TABLE "operator_sessions" (
    "id" TEXT NOT NULL,
    "operator_id" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "csrf_token" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "client_address" TEXT,
    CONSTRAINT "operator_sessions_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "operator_sessions_operator_fkey" FOREIGN KEY ("operator_id") REFERENCES "operators"("id")
);
CREATE UNIQUE INDEX "operator_sessions_secret_hash_key" ON "operator_sessions"("secret_hash");

CREATE TABLE "operator_sign_in_attempts" (
    "id" BIGSERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "client_address" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "operator_sign_in_attempts_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "operator_sign_in_attempts_email_created_at_idx" ON "operator_sign_in_attempts"("email", "created_at");
CREATE INDEX "operator_sign_in_attempts_client_address_created_at_idx" ON "operator_sign_in_attempts"("client_address", "created_at");
