-- Passkeys (WebAuthn, A1), SQLite dialect. The PostgreSQL file of the same
-- name has the same tables, columns and indexes with that database's type
-- names; the queries in sqldb/webauthn.go run unchanged on both.

-- Registered credentials. The public key is sealed under a keyring key with
-- the user and credential ID as additional data, so a row written or moved
-- behind the server's back does not open (A7, D7). id is the handle the API
-- shows; credential_id is the authenticator's own ID, unique across users.
CREATE TABLE webauthn_credentials (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id      BLOB NOT NULL,
    public_key_sealed  BLOB NOT NULL,
    attestation_type   TEXT NOT NULL,
    attestation_format TEXT NOT NULL,
    sign_count         INTEGER NOT NULL, -- clone detection (A1)
    aaguid             BLOB,
    transports         TEXT NOT NULL,    -- comma-separated hints
    backup_eligible    INTEGER NOT NULL CHECK (backup_eligible IN (0, 1)),
    backup_state       INTEGER NOT NULL CHECK (backup_state IN (0, 1)),
    user_verified      INTEGER NOT NULL CHECK (user_verified IN (0, 1)),
    name               TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    last_used_at       INTEGER NOT NULL  -- 0: never
) STRICT;
CREATE UNIQUE INDEX webauthn_credentials_credential_id ON webauthn_credentials (credential_id);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id, created_at);

-- Begun ceremonies: the challenge and options, server-side and shared by
-- every node (M7). One per session and purpose; bound to the session that
-- began it (deleting the session deletes it), single-use (taken by the first
-- finish) and short-lived (expires_at, 5 minutes).
CREATE TABLE webauthn_ceremonies (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('registration', 'login', 'step_up')),
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, purpose)
) STRICT, WITHOUT ROWID;
CREATE INDEX webauthn_ceremonies_expires_at ON webauthn_ceremonies (expires_at);
