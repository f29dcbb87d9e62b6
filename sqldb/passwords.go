package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/parleyhq/parley"
)

// Password history and login lockout (A3, A9). Lockout state is keyed by the
// lower-cased login name, the same key as users.username_key, so that a name
// without an account is counted exactly like one with (no enumeration).

// PasswordHistory returns up to limit previous hashes, newest first.
func (db *DB) PasswordHistory(ctx context.Context, id parley.UserID, limit int) ([]string, error) {
	const op = "sqldb.PasswordHistory"
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.query(ctx, `SELECT password_hash FROM password_history WHERE user_id = ? ORDER BY id DESC LIMIT ?`,
		string(id), limit)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, h)
	}
	return out, wrap(op, rows.Err())
}

// ChangePassword moves the current hash into the history, sets the new one
// and trims the history to keep entries, in one transaction: a crash can
// never leave a new password without its predecessor recorded.
func (db *DB) ChangePassword(ctx context.Context, id parley.UserID, hash string, changedAt time.Time, keep int) error {
	const op = "sqldb.ChangePassword"
	return db.writeTx(ctx, op, func(t *tx) error {
		var old string
		if err := t.get(`SELECT password_hash FROM users WHERE id = ?`+db.d.forUpdate, []any{string(id)}, &old); err != nil {
			return userErr(op, err)
		}
		if _, err := t.exec(`INSERT INTO password_history (user_id, password_hash, replaced_at) VALUES (?, ?, ?)`,
			string(id), old, ts(changedAt)); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?`,
			hash, ts(changedAt), string(id)); err != nil {
			return err
		}
		// Keep the newest `keep`: delete everything older than the
		// keep-th newest id (none if there are fewer).
		_, err := t.exec(`DELETE FROM password_history WHERE user_id = ? AND id <= COALESCE((
			SELECT id FROM password_history WHERE user_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?), 0)`,
			string(id), string(id), max(keep, 0))
		return err
	})
}

// LoginLock returns a name's lockout state; the zero state if none.
func (db *DB) LoginLock(ctx context.Context, username string) (*parley.LoginLock, error) {
	const op = "sqldb.LoginLock"
	var (
		l             parley.LoginLock
		last, lockedU int64
	)
	err := db.get(ctx, `SELECT failures, last_failure_at, locked_until, lock_notice FROM login_failures WHERE username_key = ?`,
		[]any{usernameKey(username)}, &l.Failures, &last, &lockedU, &l.NoticePending)
	if err == sql.ErrNoRows {
		return &parley.LoginLock{}, nil
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	l.LastFailureAt, l.LockedUntil = tm(last), tm(lockedU)
	return &l, nil
}

// RecordLoginFailure counts a failure and locks at the threshold. The upsert
// takes the row's lock until commit (PostgreSQL) or runs on the one writer
// (SQLite), so concurrent failures on several nodes count exactly; the lock
// UPDATE's condition makes only one of them the one that locks.
func (db *DB) RecordLoginFailure(ctx context.Context, username string, at time.Time, threshold int, lockFor time.Duration) (bool, error) {
	const op = "sqldb.RecordLoginFailure"
	key := usernameKey(username)
	locked := false
	err := db.writeTx(ctx, op, func(t *tx) error {
		var n int
		if err := t.get(`INSERT INTO login_failures (username_key, failures, last_failure_at, locked_until, lock_notice)
			VALUES (?, 1, ?, 0, ?)
			ON CONFLICT (username_key) DO UPDATE SET failures = login_failures.failures + 1,
				last_failure_at = excluded.last_failure_at
			RETURNING failures`, []any{key, ts(at), false}, &n); err != nil {
			return err
		}
		if threshold <= 0 || n < threshold {
			return nil
		}
		res, err := t.exec(`UPDATE login_failures SET failures = 0, locked_until = ?, lock_notice = ?
			WHERE username_key = ? AND failures >= ?`, ts(at.Add(lockFor)), true, key, threshold)
		if err != nil {
			return err
		}
		locked = oneRow(res) == nil
		return nil
	})
	return locked, err
}

// ClearLoginFailures resets the count and optionally takes the notice.
func (db *DB) ClearLoginFailures(ctx context.Context, username string, takeNotice bool) (bool, error) {
	const op = "sqldb.ClearLoginFailures"
	key := usernameKey(username)
	taken := false
	err := db.writeTx(ctx, op, func(t *tx) error {
		var notice bool
		err := t.get(`SELECT lock_notice FROM login_failures WHERE username_key = ?`+db.d.forUpdate, []any{key}, &notice)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		taken = notice && takeNotice
		_, err = t.exec(`UPDATE login_failures SET failures = 0, lock_notice = ? WHERE username_key = ?`, notice && !takeNotice, key)
		return err
	})
	return taken, err
}

// UnlockLogin lifts a lock and resets the count, keeping the notice for
// the user. wasLocked reports a lock still in force at now.
func (db *DB) UnlockLogin(ctx context.Context, username string, now time.Time) (bool, error) {
	const op = "sqldb.UnlockLogin"
	key := usernameKey(username)
	was := false
	err := db.writeTx(ctx, op, func(t *tx) error {
		var until int64
		err := t.get(`SELECT locked_until FROM login_failures WHERE username_key = ?`+db.d.forUpdate, []any{key}, &until)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		was = until > ts(now)
		_, err = t.exec(`UPDATE login_failures SET failures = 0, locked_until = 0 WHERE username_key = ?`, key)
		return err
	})
	return was, err
}

// PruneLoginFailures deletes the rows of names that are no account's and
// last failed before `before`.
func (db *DB) PruneLoginFailures(ctx context.Context, before time.Time) (int, error) {
	res, err := db.exec(ctx, `DELETE FROM login_failures WHERE last_failure_at < ? AND locked_until < ?
		AND NOT EXISTS (SELECT 1 FROM users WHERE users.username_key = login_failures.username_key)`, ts(before), ts(before))
	if err != nil {
		return 0, wrap("sqldb.PruneLoginFailures", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
