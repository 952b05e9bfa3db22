-- Rotating refresh tokens (issue #2, Identity): only SHA-256 hashes are stored; family_id groups the
-- tokens of one login so a reused (already rotated) token can revoke them all.
CREATE TABLE "refresh_tokens" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_refresh_tokens" PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NOT NULL,
    "token_hash" TEXT NOT NULL,
    "family_id" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    "expires_at" TEXT NOT NULL,
    "revoked_at" TEXT NULL,
    "replaced_by_id" INTEGER NULL,
    CONSTRAINT "fk_refresh_tokens_refresh_tokens_replaced_by_id" FOREIGN KEY ("replaced_by_id") REFERENCES "refresh_tokens" ("id") ON DELETE SET NULL,
    CONSTRAINT "fk_refresh_tokens_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_refresh_tokens_family_id" ON "refresh_tokens" ("family_id");

CREATE INDEX "ix_refresh_tokens_replaced_by_id" ON "refresh_tokens" ("replaced_by_id");

CREATE UNIQUE INDEX "ix_refresh_tokens_token_hash" ON "refresh_tokens" ("token_hash");

CREATE INDEX "ix_refresh_tokens_user_id" ON "refresh_tokens" ("user_id");
