-- Events outbox (decision 0006): written in the same transaction as the change they describe; webhooks
-- (issue #4) fan them out to subscriptions. ix_events_type_id serves GET /api/events?type=...
CREATE TABLE "events" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_events" PRIMARY KEY AUTOINCREMENT,
    "event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "occurred_at" TEXT NOT NULL,
    "dispatched_at" TEXT NULL
);

CREATE UNIQUE INDEX "ix_events_event_id" ON "events" ("event_id");

CREATE INDEX "ix_events_type_id" ON "events" ("type", "id");

-- Webhook fan-out finds undispatched events here, however long the history grows.
CREATE INDEX "ix_events_undispatched" ON "events" ("id") WHERE dispatched_at IS NULL;
