-- One-time codes by e-mail or SMS, the addresses they go to, and push
-- approval on a signed-in device (A1). PostgreSQL dialect; the SQLite file
-- of the same name has the same tables with that database's type names.

-- The key under which one-time codes are MACed, sealed under a keyring KEK
-- (D2). One row ("current"); the first node to start stores it.
CREATE TABLE otp_keys (
    id         TEXT PRIMARY KEY,
    sealed     BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

-- Codes sent. Only a keyed MAC of each code is kept (A7): a six-digit code
-- hashed without a secret would fall to an offline search at once. Used
-- codes stay (used_at > 0) until swept, because the resend limits count them.
CREATE TABLE otp_challenges (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL, -- login, step_up, contact
    channel    TEXT NOT NULL, -- email, sms
    binding    TEXT NOT NULL, -- pending login / session ID, or the user ID
    payload    BYTEA,         -- a new address, sealed (D2), while it is verified
    code_mac   BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts   BIGINT NOT NULL,
    used_at    BIGINT NOT NULL -- 0 until used (single use)
);
CREATE INDEX otp_challenges_lookup ON otp_challenges (user_id, purpose, channel, binding, created_at);
CREATE INDEX otp_challenges_user_created ON otp_challenges (user_id, created_at);
CREATE INDEX otp_challenges_created_at ON otp_challenges (created_at);

-- Where a user receives codes: verified addresses only. The address is
-- personal data, sealed under the keyring with the user and channel as AAD
-- (D2); nothing looks it up.
CREATE TABLE user_contacts (
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel        TEXT NOT NULL,
    address_sealed BYTEA NOT NULL,
    verified       BOOLEAN NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel)
);

-- Push approval requests. session_id is the pending login (no foreign key:
-- the session row is replaced when the login completes); token_hash binds
-- polling to the holder of its mfa_token.
CREATE TABLE push_requests (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    token_hash BYTEA NOT NULL,
    number     BIGINT NOT NULL,
    status     TEXT NOT NULL, -- pending, approved, denied, expired, used
    source_ip  TEXT NOT NULL,
    location   TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT NOT NULL,
    decided_by TEXT NOT NULL,
    reason     TEXT NOT NULL
);
CREATE INDEX push_requests_session ON push_requests (session_id);
CREATE INDEX push_requests_status_expires ON push_requests (status, expires_at);
