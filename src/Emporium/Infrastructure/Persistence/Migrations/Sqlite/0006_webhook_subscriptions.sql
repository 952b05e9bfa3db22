-- Webhook subscriptions (issue #4, decision 0007): where events are POSTed and the secrets that sign them
-- (HMAC needs the secret itself, so it is stored; the API shows it once).
CREATE TABLE "webhook_subscriptions" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_webhook_subscriptions" PRIMARY KEY AUTOINCREMENT,
    "url" TEXT NOT NULL,
    "description" TEXT NULL,
    "event_types" TEXT NOT NULL,
    "is_active" INTEGER NOT NULL,
    "disabled_reason" TEXT NULL,
    "secret" TEXT NOT NULL,
    "previous_secret" TEXT NULL,
    "previous_secret_expires_at" TEXT NULL,
    "failing_since" TEXT NULL,
    "created_by_id" INTEGER NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "version" INTEGER NOT NULL
);
