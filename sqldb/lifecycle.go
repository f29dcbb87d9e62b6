package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/parleyhq/parley"
)

// Account lifecycle (Z8, Z11): offboarding, reactivation, disabling,
// end dates, last use, and the API tokens of service accounts. The schema
// is migrations/*/0007_lifecycle.sql.

// OffboardUser applies an offboarding in one transaction, so that a leaver
// is never left half-removed: either every step holds or none does. The
// disabled status alone already refuses the leaver's sessions and tokens
// (auth.Authenticate); the caller then ends the sessions and closes their
// WebSockets.
func (db *DB) OffboardUser(ctx context.Context, o parley.Offboarding) (*parley.OffboardResult, error) {
	const op = "sqldb.OffboardUser"
	var res *parley.OffboardResult
	err := db.writeTx(ctx, op, func(t *tx) error {
		res = &parley.OffboardResult{}
		if err := disableTx(t, op, o.UserID, o.At, o.By, o.Reason); err != nil {
			return err
		}
		var err error
		if res.Roles, err = revokeRolesTx(t, o.UserID); err != nil {
			return err
		}
		if err := removeCredentialsTx(t, o.UserID, res); err != nil {
			return err
		}
		if res.TokenIDs, err = stringsTx(t, `SELECT id FROM service_tokens WHERE user_id = ? ORDER BY created_at, id`, string(o.UserID)); err != nil {
			return err
		}
		if _, err := t.exec(`DELETE FROM service_tokens WHERE user_id = ?`, string(o.UserID)); err != nil {
			return err
		}
		res.Conversations, err = leaveConversationsTx(t, o.UserID, o.Successor)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// disableTx moves an active account to disabled; a missing account is
// not_found, one that is not active a conflict.
func disableTx(t *tx, op string, id parley.UserID, at time.Time, by parley.UserID, reason string) error {
	r, err := t.exec(`UPDATE users SET status = ?, disabled_at = ?, disabled_by = ?, disabled_reason = ?
		WHERE id = ? AND status = ?`, string(parley.UserDisabled), ts(at), string(by), reason,
		string(id), string(parley.UserActive))
	if err != nil {
		return err
	}
	return statusChanged(t, op, r, id)
}

// statusChanged turns "no row updated" into not_found or conflict.
func statusChanged(t *tx, op string, r sql.Result, id parley.UserID) error {
	err := oneRow(r)
	if err != sql.ErrNoRows {
		return err
	}
	var status string
	if err := t.get(`SELECT status FROM users WHERE id = ?`, []any{string(id)}, &status); err != nil {
		return userErr(op, err)
	}
	return &parley.Error{Code: parley.CodeConflict, Message: "the account is " + status, Op: op}
}

// revokeRolesTx removes every grant but "user" inside t (offboarding,
// RevokeAllRoles) and returns what it removed.
func revokeRolesTx(t *tx, id parley.UserID) ([]*parley.RoleGrant, error) {
	rows, err := t.query(`SELECT `+grantColumns+` FROM role_grants WHERE user_id = ? AND role <> ? ORDER BY role, scope`,
		string(id), string(parley.RoleUser))
	if err != nil {
		return nil, err
	}
	var out []*parley.RoleGrant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, g)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	_, err = t.exec(`DELETE FROM role_grants WHERE user_id = ? AND role <> ?`, string(id), string(parley.RoleUser))
	return out, err
}

// removeCredentialsTx deletes every device key and second factor of the
// user (passkeys, TOTP, recovery codes, code addresses) and what hangs on
// them (ceremonies, pending codes, push requests, remembered login
// sources), counting what it removed.
func removeCredentialsTx(t *tx, id parley.UserID, res *parley.OffboardResult) error {
	uid := string(id)
	var err error
	if res.Passkeys, err = deleteCountTx(t, `DELETE FROM webauthn_credentials WHERE user_id = ?`, uid); err != nil {
		return err
	}
	if res.RecoveryCodes, err = deleteCountTx(t, `DELETE FROM recovery_codes WHERE user_id = ?`, uid); err != nil {
		return err
	}
	if res.Contacts, err = deleteCountTx(t, `DELETE FROM user_contacts WHERE user_id = ?`, uid); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM webauthn_ceremonies WHERE user_id = ?`,
		`DELETE FROM otp_challenges WHERE user_id = ?`,
		`DELETE FROM push_requests WHERE user_id = ?`,
		`DELETE FROM login_sources WHERE user_id = ?`,
	} {
		if _, err := t.exec(q, uid); err != nil {
			return err
		}
	}
	var hadTOTP int
	if err := t.get(`SELECT CASE WHEN totp_secret_sealed IS NULL THEN 0 ELSE 1 END FROM users WHERE id = ?`,
		[]any{uid}, &hadTOTP); err != nil {
		return err
	}
	res.TOTP = hadTOTP == 1
	_, err = t.exec(`UPDATE users SET totp_secret_sealed = NULL, mfa_enrolled = ? WHERE id = ?`, false, uid)
	return err
}

// leaveConversationsTx removes the user from every conversation and hands
// on what they owned. Messages stay (history is kept per retention
// policy); the user's read markers go with the membership. A direct
// conversation loses its pair key, so that the pair, should the account
// come back, starts a new one instead of finding this one without them.
func leaveConversationsTx(t *tx, id, successor parley.UserID) ([]parley.ConversationExit, error) {
	uid := string(id)
	rows, err := t.query(`SELECT c.id, c.type, COALESCE(c.created_by, '') FROM conversations c
		WHERE c.id IN (SELECT conversation_id FROM conversation_members WHERE user_id = ?) OR c.created_by = ?
		ORDER BY c.id`, uid, uid)
	if err != nil {
		return nil, err
	}
	var exits []parley.ConversationExit
	for rows.Next() {
		var e parley.ConversationExit
		var owner parley.UserID
		if err := rows.Scan(&e.ConversationID, &e.Type, &owner); err != nil {
			rows.Close()
			return nil, err
		}
		e.WasOwner = owner == id
		exits = append(exits, e)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for i := range exits {
		e := &exits[i]
		cid := string(e.ConversationID)
		for _, q := range []string{
			`DELETE FROM conversation_members WHERE conversation_id = ? AND user_id = ?`,
			`DELETE FROM read_markers WHERE conversation_id = ? AND user_id = ?`,
		} {
			if _, err := t.exec(q, cid, uid); err != nil {
				return nil, err
			}
		}
		if e.Type == parley.ConversationDirect {
			if _, err := t.exec(`UPDATE conversations SET direct_key = NULL WHERE id = ?`, cid); err != nil {
				return nil, err
			}
		}
		if err := t.get(`SELECT COUNT(*) FROM conversation_members WHERE conversation_id = ?`, []any{cid}, &e.Remaining); err != nil {
			return nil, err
		}
		if !e.WasOwner {
			continue
		}
		if e.NewOwner, err = nextOwnerTx(t, cid, successor); err != nil {
			return nil, err
		}
		if _, err := t.exec(`UPDATE conversations SET created_by = ? WHERE id = ?`, nullString(e.NewOwner), cid); err != nil {
			return nil, err
		}
	}
	return exits, nil
}

// nextOwnerTx picks the new owner of a conversation: the successor if they
// are a member, else the longest-standing remaining member (members join
// in ordinal order), active accounts before disabled ones; empty when
// nobody is left.
func nextOwnerTx(t *tx, cid string, successor parley.UserID) (parley.UserID, error) {
	if successor != "" {
		var one int
		err := t.get(`SELECT 1 FROM conversation_members WHERE conversation_id = ? AND user_id = ?`,
			[]any{cid, string(successor)}, &one)
		if err == nil {
			return successor, nil
		}
		if err != sql.ErrNoRows {
			return "", err
		}
	}
	var next parley.UserID
	err := t.get(`SELECT m.user_id FROM conversation_members m JOIN users u ON u.id = m.user_id
		WHERE m.conversation_id = ? ORDER BY CASE WHEN u.status = ? THEN 0 ELSE 1 END, m.ordinal LIMIT 1`,
		[]any{cid, string(parley.UserActive)}, &next)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return next, err
}

func deleteCountTx(t *tx, q string, args ...any) (int, error) {
	r, err := t.exec(q, args...)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

func stringsTx(t *tx, q string, args ...any) ([]string, error) {
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ReactivateUser makes a disabled account active again with a new password
// that the user must replace (its change time is zero), in one
// transaction. The password history is kept as ChangePassword keeps it.
func (db *DB) ReactivateUser(ctx context.Context, id parley.UserID, passwordHash string, at time.Time, keep int) error {
	const op = "sqldb.ReactivateUser"
	return db.writeTx(ctx, op, func(t *tx) error {
		r, err := t.exec(`UPDATE users SET status = ?, disabled_at = 0, disabled_by = '', disabled_reason = '',
			last_login_at = ?, end_at = CASE WHEN end_at > 0 AND end_at <= ? THEN 0 ELSE end_at END
			WHERE id = ? AND status = ?`, string(parley.UserActive), ts(at), ts(at),
			string(id), string(parley.UserDisabled))
		if err != nil {
			return err
		}
		if err := statusChanged(t, op, r, id); err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO password_history (user_id, password_hash, replaced_at)
			SELECT id, password_hash, ? FROM users WHERE id = ?`, ts(at), string(id)); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE users SET password_hash = ?, password_changed_at = 0 WHERE id = ?`,
			passwordHash, string(id)); err != nil {
			return err
		}
		_, err = t.exec(`DELETE FROM password_history WHERE user_id = ? AND id <= COALESCE((
			SELECT id FROM password_history WHERE user_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?), 0)`,
			string(id), string(id), max(keep, 0))
		return err
	})
}

// DisableUser disables an active account.
func (db *DB) DisableUser(ctx context.Context, id parley.UserID, at time.Time, by parley.UserID, reason string) error {
	const op = "sqldb.DisableUser"
	return db.writeTx(ctx, op, func(t *tx) error { return disableTx(t, op, id, at, by, reason) })
}

// SetUserEndDate sets or (zero) clears the end date.
func (db *DB) SetUserEndDate(ctx context.Context, id parley.UserID, end time.Time) error {
	err := db.execOne(ctx, `UPDATE users SET end_at = ? WHERE id = ?`, ts(end), string(id))
	return userErr("sqldb.SetUserEndDate", err)
}

// TouchLastLogin records a complete login; the time never moves back.
func (db *DB) TouchLastLogin(ctx context.Context, id parley.UserID, at time.Time) error {
	_, err := db.exec(ctx, `UPDATE users SET last_login_at = ? WHERE id = ? AND last_login_at < ?`,
		ts(at), string(id), ts(at))
	return wrap("sqldb.TouchLastLogin", err)
}

// LapsedUsers returns active accounts past their end date or unused since
// unusedSince, with their roles.
func (db *DB) LapsedUsers(ctx context.Context, unusedSince, now time.Time, limit int) ([]*parley.User, error) {
	const op = "sqldb.LapsedUsers"
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.query(ctx, `SELECT `+userColumns+` FROM users WHERE status = ?
		AND ((end_at > 0 AND end_at <= ?)
		  OR CASE WHEN last_login_at > created_at THEN last_login_at ELSE created_at END <= ?)
		ORDER BY id LIMIT ?`, string(parley.UserActive), ts(now), ts(unusedSince), limit)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var users []*parley.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	rows.Close()
	if len(users) == 0 {
		return nil, nil
	}
	if err := db.loadRoles(ctx, users); err != nil {
		return nil, wrap(op, err)
	}
	return users, nil
}

// CountActiveHolders counts the active accounts holding role.
func (db *DB) CountActiveHolders(ctx context.Context, role parley.Role) (int, error) {
	var n int
	err := db.get(ctx, `SELECT COUNT(DISTINCT r.user_id) FROM role_grants r JOIN users u ON u.id = r.user_id
		WHERE r.role = ? AND u.status = ?`, []any{string(role), string(parley.UserActive)}, &n)
	return n, wrap("sqldb.CountActiveHolders", err)
}

const serviceTokenColumns = `id, user_id, name, token_hash, created_by, created_at, expires_at, last_used_at` // #nosec G101 -- column names, not a credential

func scanServiceToken(row interface{ Scan(...any) error }) (*parley.ServiceToken, error) {
	var (
		st                           parley.ServiceToken
		createdAt, expiresAt, usedAt int64
	)
	if err := row.Scan(&st.ID, &st.UserID, &st.Name, &st.TokenHash, &st.CreatedBy, &createdAt, &expiresAt, &usedAt); err != nil {
		return nil, err
	}
	st.CreatedAt, st.ExpiresAt, st.LastUsedAt = tm(createdAt), tm(expiresAt), tm(usedAt)
	return &st, nil
}

// CreateServiceToken stores a token unless its user holds max already. The
// user's row is locked first (PostgreSQL; SQLite's single writer already
// serialises), so two concurrent creations cannot both pass the count.
func (db *DB) CreateServiceToken(ctx context.Context, st *parley.ServiceToken, max int) error {
	const op = "sqldb.CreateServiceToken"
	return db.writeTx(ctx, op, func(t *tx) error {
		var uid string
		if err := t.get(`SELECT id FROM users WHERE id = ?`+db.d.forUpdate, []any{string(st.UserID)}, &uid); err != nil {
			return userErr(op, err)
		}
		var n int
		if err := t.get(`SELECT COUNT(*) FROM service_tokens WHERE user_id = ?`, []any{uid}, &n); err != nil {
			return err
		}
		if n >= max {
			return &parley.Error{Code: parley.CodeConflict, Message: "the account has the most tokens allowed; revoke one first", Op: op}
		}
		_, err := t.exec(`INSERT INTO service_tokens (`+serviceTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			st.ID, uid, st.Name, st.TokenHash, string(st.CreatedBy), ts(st.CreatedAt), ts(st.ExpiresAt), ts(st.LastUsedAt))
		return err
	})
}

// ServiceTokenByHash finds a token by the hash of its secret.
func (db *DB) ServiceTokenByHash(ctx context.Context, hash []byte) (*parley.ServiceToken, error) {
	const op = "sqldb.ServiceTokenByHash"
	s, err := db.stmt(ctx, db.reader, `SELECT `+serviceTokenColumns+` FROM service_tokens WHERE token_hash = ?`)
	if err != nil {
		return nil, parley.Internal(op, err)
	}
	st, err := scanServiceToken(s.QueryRowContext(ctx, hash))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "token")
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	return st, nil
}

// ListServiceTokens returns the user's tokens, oldest first.
func (db *DB) ListServiceTokens(ctx context.Context, user parley.UserID) ([]*parley.ServiceToken, error) {
	const op = "sqldb.ListServiceTokens"
	rows, err := db.query(ctx, `SELECT `+serviceTokenColumns+` FROM service_tokens WHERE user_id = ? ORDER BY created_at, id`, string(user))
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.ServiceToken
	for rows.Next() {
		st, err := scanServiceToken(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, st)
	}
	return out, wrap(op, rows.Err())
}

// DeleteServiceToken deletes one of the user's tokens.
func (db *DB) DeleteServiceToken(ctx context.Context, user parley.UserID, id string) error {
	const op = "sqldb.DeleteServiceToken"
	err := db.execOne(ctx, `DELETE FROM service_tokens WHERE id = ? AND user_id = ?`, id, string(user))
	if err == sql.ErrNoRows {
		return notFound(op, "token")
	}
	return wrap(op, err)
}

// TouchServiceToken records a use of the token, and of its account.
func (db *DB) TouchServiceToken(ctx context.Context, id string, user parley.UserID, at time.Time) error {
	return db.writeTx(ctx, "sqldb.TouchServiceToken", func(t *tx) error {
		if _, err := t.exec(`UPDATE service_tokens SET last_used_at = ? WHERE id = ? AND last_used_at < ?`,
			ts(at), id, ts(at)); err != nil {
			return err
		}
		_, err := t.exec(`UPDATE users SET last_login_at = ? WHERE id = ? AND last_login_at < ?`,
			ts(at), string(user), ts(at))
		return err
	})
}

// DeleteExpiredServiceTokens removes tokens whose expiry is before now.
func (db *DB) DeleteExpiredServiceTokens(ctx context.Context, now time.Time) (int, error) {
	return db.deleteCount(ctx, "sqldb.DeleteExpiredServiceTokens", `DELETE FROM service_tokens WHERE expires_at < ?`, ts(now))
}
