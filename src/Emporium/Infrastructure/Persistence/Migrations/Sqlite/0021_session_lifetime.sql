-- When a refresh token's login happened (Auth:SessionLifetime): no token of the family lives past it plus the lifetime.
-- Nullable: tokens issued before, and by a build before during a rolling upgrade, count from their own creation.
ALTER TABLE refresh_tokens ADD COLUMN signed_in_at TEXT NULL;
