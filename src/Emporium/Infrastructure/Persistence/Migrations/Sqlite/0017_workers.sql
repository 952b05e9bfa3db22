-- Worker processes as they report themselves (issue 17): registered at start, renewed every Workers:HeartbeatInterval,
-- marked stopped at shutdown; GET /api/workers shows them with the jobs they hold.
CREATE TABLE workers (
    id TEXT NOT NULL CONSTRAINT pk_workers PRIMARY KEY,
    host TEXT NOT NULL,
    process_id INTEGER NOT NULL,
    role TEXT NOT NULL,
    kinds TEXT NOT NULL,
    concurrency INTEGER NOT NULL,
    version TEXT NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    stopped_at TEXT NULL,
    jobs_completed INTEGER NOT NULL,
    jobs_failed INTEGER NOT NULL,
    jobs_per_minute REAL NOT NULL
);
CREATE INDEX ix_workers_heartbeat_at ON workers (heartbeat_at);
