package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/parleyhq/parley"
)

// TouchLoginSource records a completed login from source.
func (db *DB) TouchLoginSource(ctx context.Context, id parley.UserID, source string, at time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO login_sources (user_id, source, last_success) VALUES (?, ?, ?)
		ON CONFLICT (user_id, source) DO UPDATE SET last_success = excluded.last_success`,
		string(id), source, ts(at))
	return wrap("sqldb.TouchLoginSource", err)
}

// LoginSourceSince reports whether the user completed a login from source
// at or after since.
func (db *DB) LoginSourceSince(ctx context.Context, id parley.UserID, source string, since time.Time) (bool, error) {
	var last int64
	err := db.get(ctx, `SELECT last_success FROM login_sources WHERE user_id = ? AND source = ?`,
		[]any{string(id), source}, &last)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, wrap("sqldb.LoginSourceSince", err)
	}
	return last >= ts(since), nil
}
