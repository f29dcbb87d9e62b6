-- Password history and login lockout (A3, A9), PostgreSQL dialect. The
-- SQLite file of the same name has the same tables with that database's
-- type names. The password policy itself is a JSON value in settings.

-- Previous password hashes (argon2id PHC strings, A7), so that the last N
-- cannot be reused. id orders them: two changes may share a timestamp.
CREATE TABLE password_history (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    replaced_at   BIGINT NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, id);

-- Consecutive login failures per login name (lower-cased), whether or not
-- an account has that name: unknown and known names are counted and locked
-- alike, so the lockout cannot be used to find accounts. In the database,
-- not in memory, so that every node sees the same count (M7).
CREATE TABLE login_failures (
    username_key    TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until    BIGINT NOT NULL, -- 0: not locked
    lock_notice     BOOLEAN NOT NULL
);
CREATE INDEX login_failures_last_failure_at ON login_failures (last_failure_at);
