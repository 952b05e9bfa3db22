-- Webhook deliveries (issue #4, decision 0007): one row per event per matching subscription, written by the fan-out
-- and claimed by workers in batches under a lease; webhook_attempts logs every attempt, written BEFORE it is sent.
-- ix_webhook_deliveries_due holds only PENDING/SENDING rows, so the claim stays cheap however long the log grows.
CREATE TABLE "webhook_deliveries" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_webhook_deliveries" PRIMARY KEY AUTOINCREMENT,
    "subscription_id" INTEGER NOT NULL,
    "event_id" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "next_attempt_at" TEXT NOT NULL,
    "lease_owner" TEXT NULL,
    "lease_expires_at" TEXT NULL,
    "last_status_code" INTEGER NULL,
    "last_error" TEXT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "succeeded_at" TEXT NULL,
    CONSTRAINT "fk_webhook_deliveries_events_event_id" FOREIGN KEY ("event_id") REFERENCES "events" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_webhook_deliveries_webhook_subscriptions_subscription_id" FOREIGN KEY ("subscription_id") REFERENCES "webhook_subscriptions" ("id") ON DELETE CASCADE
);

CREATE TABLE "webhook_attempts" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_webhook_attempts" PRIMARY KEY AUTOINCREMENT,
    "delivery_id" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "started_at" TEXT NOT NULL,
    "finished_at" TEXT NULL,
    "status_code" INTEGER NULL,
    "failure" TEXT NULL,
    "error" TEXT NULL,
    "duration_ms" INTEGER NULL,
    "response_body" TEXT NULL,
    "worker" TEXT NOT NULL,
    CONSTRAINT "fk_webhook_attempts_webhook_deliveries_delivery_id" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "ix_webhook_attempts_delivery_id_number" ON "webhook_attempts" ("delivery_id", "number");

CREATE INDEX "ix_webhook_deliveries_due" ON "webhook_deliveries" ("subscription_id", "next_attempt_at") WHERE status IN ('PENDING', 'SENDING');

CREATE INDEX "ix_webhook_deliveries_event_id" ON "webhook_deliveries" ("event_id");

CREATE INDEX "ix_webhook_deliveries_subscription_id_id" ON "webhook_deliveries" ("subscription_id", "id");

