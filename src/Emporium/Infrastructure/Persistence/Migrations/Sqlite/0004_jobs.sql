-- Durable background jobs (issue #3, decision 0004): the row is the outbox entry and the source of truth;
-- workers claim due PENDING rows and expired PROCESSING leases through ix_jobs_status_next_run_at.
CREATE TABLE "jobs" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_jobs" PRIMARY KEY AUTOINCREMENT,
    "kind" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "max_attempts" INTEGER NOT NULL,
    "next_run_at" TEXT NOT NULL,
    "lease_owner" TEXT NULL,
    "lease_expires_at" TEXT NULL,
    "progress" TEXT NULL,
    "result" TEXT NULL,
    "last_error" TEXT NULL,
    "cancel_requested" INTEGER NOT NULL,
    "created_at" TEXT NOT NULL,
    "started_at" TEXT NULL,
    "finished_at" TEXT NULL,
    "updated_at" TEXT NOT NULL
);

CREATE INDEX "ix_jobs_kind" ON "jobs" ("kind");

CREATE INDEX "ix_jobs_status_next_run_at" ON "jobs" ("status", "next_run_at");
