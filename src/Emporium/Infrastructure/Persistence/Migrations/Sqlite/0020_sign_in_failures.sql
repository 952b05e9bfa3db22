-- Sign-ins per account and client address (SignInFailures, decision 0022): five wrong passwords lock that address out of
-- that account, not the account out for everyone; a row with client '*' counts the account's failures from every address,
-- and last_succeeded_at makes an address the owner's, spared by the account-wide lock.
-- Identity's per-account count (users.access_failed_count) is no longer used; a lockout it set before ends on its own.
CREATE TABLE sign_in_failures (
    id INTEGER NOT NULL CONSTRAINT pk_sign_in_failures PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    client TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failed_at TEXT NOT NULL,
    locked_until TEXT NULL,
    last_succeeded_at TEXT NULL,
    CONSTRAINT fk_sign_in_failures_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_sign_in_failures_last_failed_at ON sign_in_failures (last_failed_at);
CREATE UNIQUE INDEX ix_sign_in_failures_user_id_client ON sign_in_failures (user_id, client);
