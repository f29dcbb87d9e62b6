-- Parley schema, SQLite dialect. The PostgreSQL file of the same name has the
-- same tables, columns and indexes with that database's type names; the
-- queries in sqldb run unchanged on both.
--
-- Times are INTEGER nanoseconds since the Unix epoch (UTC), 0 for "never".
-- Tables are STRICT: a value of the wrong type is an error, not a silent
-- conversion. Booleans are 0/1.

CREATE TABLE departments (
    id         TEXT PRIMARY KEY,
    parent_id  TEXT REFERENCES departments (id),
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    username            TEXT NOT NULL,
    -- lower-cased username: uniqueness and lookup are case-insensitive, so
    -- "Alice" cannot impersonate "alice".
    username_key        TEXT NOT NULL,
    display_name        TEXT NOT NULL,
    display_name_key    TEXT NOT NULL, -- lower-cased, for search
    department_id       TEXT REFERENCES departments (id),
    status              TEXT NOT NULL,
    password_hash       TEXT NOT NULL, -- argon2id PHC string (A7)
    password_changed_at INTEGER NOT NULL,
    totp_secret_sealed  BLOB,          -- AES-256-GCM ciphertext (D2)
    mfa_enrolled        INTEGER NOT NULL CHECK (mfa_enrolled IN (0, 1)),
    totp_last_step      INTEGER NOT NULL DEFAULT 0, -- replay guard (A1)
    created_at          INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_username_key ON users (username_key);
CREATE INDEX users_department ON users (department_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_roles_role ON user_roles (role);

CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL, -- the code itself is never stored (A7)
    PRIMARY KEY (user_id, code_hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    token_hash     BLOB NOT NULL, -- the bearer token is never stored (A7)
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    mfa_at         INTEGER NOT NULL,
    attempts       INTEGER NOT NULL,
    source_ip      TEXT NOT NULL,
    user_agent     TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_last_active_at ON sessions (last_active_at);

CREATE TABLE conversations (
    id            TEXT PRIMARY KEY,
    type          TEXT NOT NULL,
    title         TEXT NOT NULL,
    created_by    TEXT REFERENCES users (id),
    created_at    INTEGER NOT NULL,
    last_seq      INTEGER NOT NULL,
    last_activity INTEGER NOT NULL, -- newest message (or creation): list order
    direct_key    TEXT,             -- direct conversations only
    key_epoch     INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX conversations_direct_key ON conversations (direct_key) WHERE direct_key IS NOT NULL;

CREATE TABLE conversation_members (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id),
    ordinal         INTEGER NOT NULL, -- keeps MemberIDs in the order given
    PRIMARY KEY (conversation_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX conversation_members_user ON conversation_members (user_id);

CREATE TABLE conversation_keys (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    epoch           INTEGER NOT NULL,
    kek_id          TEXT NOT NULL,
    wrapped         BLOB NOT NULL, -- DEK wrapped by a KEK that is never in the database (D2)
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, epoch)
) STRICT;

CREATE TABLE read_markers (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id),
    seq             INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) STRICT, WITHOUT ROWID;

-- Messages hold ciphertext only (D2): there is no column for a body.
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    sender_id       TEXT NOT NULL REFERENCES users (id),
    client_msg_id   TEXT, -- NULL: not idempotent
    sent_at         INTEGER NOT NULL,
    key_epoch       INTEGER NOT NULL,
    sealed          BLOB NOT NULL
) STRICT;
CREATE UNIQUE INDEX messages_seq ON messages (conversation_id, seq);
CREATE UNIQUE INDEX messages_client_msg_id ON messages (conversation_id, sender_id, client_msg_id);

-- The hash-chained audit trail (L1, L3): append-only, enforced here too, so
-- that a bug elsewhere in the server cannot rewrite history. Retention (L2)
-- will replace the delete guard by one that spares nothing younger than the
-- retention period.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    occurred_at INTEGER NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    source_ip   TEXT NOT NULL,
    result      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    prev_hash   BLOB,
    hash        BLOB NOT NULL
) STRICT;
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
