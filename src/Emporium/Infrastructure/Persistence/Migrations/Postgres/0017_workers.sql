-- Worker processes as they report themselves (issue 17): registered at start, renewed every Workers:HeartbeatInterval,
-- marked stopped at shutdown; GET /api/workers shows them with the jobs they hold.
CREATE TABLE workers (
    id character varying(200) NOT NULL,
    host character varying(255) NOT NULL,
    process_id integer NOT NULL,
    role character varying(16) NOT NULL,
    kinds character varying(500) NOT NULL,
    concurrency integer NOT NULL,
    version character varying(100) NOT NULL,
    started_at timestamp with time zone NOT NULL,
    heartbeat_at timestamp with time zone NOT NULL,
    stopped_at timestamp with time zone NULL,
    jobs_completed bigint NOT NULL,
    jobs_failed bigint NOT NULL,
    jobs_per_minute double precision NOT NULL,
    CONSTRAINT pk_workers PRIMARY KEY (id)
);
CREATE INDEX ix_workers_heartbeat_at ON workers (heartbeat_at);
