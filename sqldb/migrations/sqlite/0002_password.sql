-- Password history and login lockout (A3, A9), SQLite dialect. The
-- PostgreSQL file of the same name has the same tables with that database's
-- type names. The password policy itself is a JSON value in settings.

-- Previous password hashes (argon2id PHC strings, A7), so that the last N
-- cannot be reused. id orders them: two changes may share a timestamp.
CREATE TABLE password_history (
    id            INTEGER PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    replaced_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX password_history_user ON password_history (user_id, id);

-- Consecutive login failures per login name (lower-cased), whether or not
-- an account has that name: unknown and known names are counted and locked
-- alike, so the lockout cannot be used to find accounts. In the database,
-- not in memory, so that every node sees the same count (M7).
CREATE TABLE login_failures (
    username_key    TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    locked_until    INTEGER NOT NULL, -- 0: not locked
    lock_notice     INTEGER NOT NULL CHECK (lock_notice IN (0, 1))
) STRICT, WITHOUT ROWID;
CREATE INDEX login_failures_last_failure_at ON login_failures (last_failure_at);
