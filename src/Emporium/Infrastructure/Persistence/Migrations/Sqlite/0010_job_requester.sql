-- Ownership (issue #12, decision 0013): a job remembers the user whose request queued it, so a seller can follow, cancel
-- and retry its own imports and bulk deletes and nobody else's.
ALTER TABLE jobs ADD COLUMN requested_by INTEGER NULL CONSTRAINT fk_jobs_users_requested_by REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX ix_jobs_requested_by ON jobs (requested_by);
