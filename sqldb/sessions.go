package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/parleyhq/parley"
)

// Sessions are server-side and revocable (A5). The store sees only the hash
// of a session's bearer token (A7): a copy of the database does not let
// anyone sign in.

const sessionColumns = `id, token_hash, user_id, stage, created_at, last_active_at, expires_at,
	mfa_at, attempts, source_ip, user_agent`

func scanSession(row interface{ Scan(...any) error }) (*parley.Session, error) {
	var (
		s                                     parley.Session
		createdAt, lastActive, expires, mfaAt int64
	)
	if err := row.Scan(&s.ID, &s.TokenHash, &s.UserID, &s.Stage, &createdAt, &lastActive, &expires,
		&mfaAt, &s.Attempts, &s.SourceIP, &s.UserAgent); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastActiveAt, s.ExpiresAt, s.MFAAt = tm(createdAt), tm(lastActive), tm(expires), tm(mfaAt)
	return &s, nil
}

// CreateSession inserts s; an unknown user is CodeNotFound.
func (db *DB) CreateSession(ctx context.Context, s *parley.Session) error {
	_, err := db.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.TokenHash, string(s.UserID), string(s.Stage), ts(s.CreatedAt), ts(s.LastActiveAt), ts(s.ExpiresAt),
		ts(s.MFAAt), s.Attempts, s.SourceIP, s.UserAgent)
	return wrap("sqldb.CreateSession", err)
}

// SessionByTokenHash finds a session by the hash of its token. The lookup
// compares hashes, not tokens, so its timing reveals nothing useful about a
// valid token.
func (db *DB) SessionByTokenHash(ctx context.Context, hash []byte) (*parley.Session, error) {
	const op = "sqldb.SessionByTokenHash"
	st, err := db.stmt(ctx, db.reader, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`)
	if err != nil {
		return nil, parley.Internal(op, err)
	}
	s, err := scanSession(st.QueryRowContext(ctx, hash))
	if err != nil {
		return nil, sessionErr(op, err)
	}
	return s, nil
}

// TouchSession records user activity (A5 idle timeout).
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	return sessionErr("sqldb.TouchSession", db.execOne(ctx, `UPDATE sessions SET last_active_at = ? WHERE id = ?`, ts(at), id))
}

// IncrementSessionAttempts counts one failed second-factor attempt in one
// statement, so that concurrent guesses cannot undercount (A9).
func (db *DB) IncrementSessionAttempts(ctx context.Context, id string) (int, error) {
	const op = "sqldb.IncrementSessionAttempts"
	var n int
	err := db.writeGet(ctx, `UPDATE sessions SET attempts = attempts + 1 WHERE id = ? RETURNING attempts`, []any{id}, &n)
	if err == sql.ErrNoRows {
		return 0, notFound(op, "session")
	}
	return n, wrap(op, err)
}

// DeleteSession deletes one session; CodeNotFound if it is already gone.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	return sessionErr("sqldb.DeleteSession", db.execOne(ctx, `DELETE FROM sessions WHERE id = ?`, id))
}

// DeleteUserSessions deletes every session of user except exceptID and
// returns the IDs it deleted (so that live connections can be closed too).
func (db *DB) DeleteUserSessions(ctx context.Context, user parley.UserID, exceptID string) ([]string, error) {
	const op = "sqldb.DeleteUserSessions"
	rows, err := db.writeQuery(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ? RETURNING id`, string(user), exceptID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(op, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return ids, wrap(op, rows.Close())
}

// ListUserSessions returns the user's sessions, oldest first.
func (db *DB) ListUserSessions(ctx context.Context, user parley.UserID) ([]*parley.Session, error) {
	const op = "sqldb.ListUserSessions"
	rows, err := db.query(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE user_id = ? ORDER BY created_at, id`, string(user))
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// DeleteExpiredSessions removes sessions past their absolute expiry or idle
// since before idleBefore, and returns how many.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	const op = "sqldb.DeleteExpiredSessions"
	res, err := db.exec(ctx, `DELETE FROM sessions WHERE expires_at < ? OR last_active_at < ?`, ts(now), ts(idleBefore))
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(n), nil
}

func sessionErr(op string, err error) error {
	if err == sql.ErrNoRows {
		return notFound(op, "session")
	}
	return wrap(op, err)
}
