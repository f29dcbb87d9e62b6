-- Account lifecycle (Z8, Z11), SQLite dialect. The PostgreSQL file of the
-- same name has the same columns and tables with that database's type names.

-- kind: 'person' or 'service' (service accounts never log in interactively
-- and hold no administrator role). end_at: the end date, 0 for none.
-- last_login_at: the last complete login (or service-token use), 0 for
-- never; the inactivity rule then counts from created_at. disabled_*: who
-- disabled the account, when and why ('' by: the server itself).
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service'));
ALTER TABLE users ADD COLUMN end_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled_by TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';

-- Accounts that exist at the upgrade count as used at the upgrade: the
-- upgrade itself disables nobody; the 90 days start now.
UPDATE users SET last_login_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000000000;

-- API tokens of service accounts. Like sessions, only the hash of the
-- bearer secret is kept (A7); every token has an absolute expiry (at most
-- 90 days) and no idle timeout.
CREATE TABLE service_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL,
    name         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL -- 0: never
) STRICT;
CREATE UNIQUE INDEX service_tokens_token_hash ON service_tokens (token_hash);
CREATE INDEX service_tokens_user ON service_tokens (user_id, created_at);
CREATE INDEX service_tokens_expires_at ON service_tokens (expires_at);
