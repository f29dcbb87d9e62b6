-- Two-person rule for administrator-role grants (Z9): a grant under the
-- two_person policy waits here until a second administrator decides.
CREATE TABLE grant_requests (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    role         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    status       TEXT NOT NULL,
    decided_by   TEXT NOT NULL, -- '' while pending
    decided_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX grant_requests_status ON grant_requests (status, requested_at);
