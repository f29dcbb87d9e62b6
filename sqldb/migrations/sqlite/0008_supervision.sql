-- Supervised access (Z3, D3): time-boxed grants of a department admin over
-- a department subtree, each with its stated business reason; recall of
-- messages (the sealed body is destroyed, the row stays so that sequence
-- numbers keep no gaps); and mutes of a member in one conversation.
--
-- A grant's status is pending_approval, active, denied or ended; "expired"
-- is computed from expires_at and never stored.
CREATE TABLE supervision_grants (
    id            TEXT PRIMARY KEY,
    supervisor_id TEXT NOT NULL REFERENCES users (id),
    department_id TEXT NOT NULL,    -- root of the supervised subtree
    reason        TEXT NOT NULL,    -- the stated business reason (D3)
    ticket_id     TEXT NOT NULL,    -- '' if none
    status        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    approved_by   TEXT NOT NULL,    -- '' unless approved
    approved_at   INTEGER NOT NULL, -- 0 unless approved
    ended_at      INTEGER NOT NULL  -- 0 unless ended early or denied
) STRICT;
CREATE INDEX supervision_grants_supervisor ON supervision_grants (supervisor_id, created_at);
CREATE INDEX supervision_grants_status ON supervision_grants (status, created_at);

ALTER TABLE messages ADD COLUMN recalled_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN recalled_by TEXT NOT NULL DEFAULT '';

CREATE TABLE conversation_mutes (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id),
    muted_until     INTEGER NOT NULL,
    muted_by        TEXT NOT NULL,
    grant_id        TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) STRICT, WITHOUT ROWID;
