package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Passkeys (A1). The store keeps what the relying party must remember of a
// credential: its ID, its public key (sealed by the service, A7), the sign
// counter that reveals cloned authenticators, and the flags. Ceremonies
// (challenges) live here too rather than in node memory, so that begin and
// finish may reach different nodes (M7); their single use rests on one
// DELETE … RETURNING, which at most one caller can win.

const webauthnColumns = `id, user_id, credential_id, public_key_sealed, attestation_type, attestation_format,
	sign_count, aaguid, transports, backup_eligible, backup_state, user_verified, name, created_at, last_used_at`

func scanWebAuthnCredential(row interface{ Scan(...any) error }) (*parley.WebAuthnCredential, error) {
	var (
		c                 parley.WebAuthnCredential
		signCount         int64
		transports        string
		created, lastUsed int64
	)
	if err := row.Scan(&c.ID, &c.UserID, &c.CredentialID, &c.PublicKeySealed, &c.AttestationType, &c.AttestationFormat,
		&signCount, &c.AAGUID, &transports, &c.BackupEligible, &c.BackupState, &c.UserVerified, &c.Name,
		&created, &lastUsed); err != nil {
		return nil, err
	}
	c.SignCount = uint32(signCount) // #nosec G115 -- the column is written by us from a uint32 sign counter; a tampered row could set any in-range value anyway
	if transports != "" {
		c.Transports = strings.Split(transports, ",")
	}
	c.CreatedAt, c.LastUsedAt = tm(created), tm(lastUsed)
	return &c, nil
}

// CreateWebAuthnCredential stores c. A credential ID registered before (to
// anyone) is CodeConflict: the same authenticator credential must never
// belong to two accounts.
func (db *DB) CreateWebAuthnCredential(ctx context.Context, c *parley.WebAuthnCredential) error {
	_, err := db.exec(ctx, `INSERT INTO webauthn_credentials (`+webauthnColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, string(c.UserID), c.CredentialID, c.PublicKeySealed, c.AttestationType, c.AttestationFormat,
		int64(c.SignCount), nullBytes(c.AAGUID), strings.Join(c.Transports, ","), c.BackupEligible, c.BackupState,
		c.UserVerified, c.Name, ts(c.CreatedAt), ts(c.LastUsedAt))
	return wrap("sqldb.CreateWebAuthnCredential", err)
}

// ListWebAuthnCredentials returns the user's credentials, oldest first.
func (db *DB) ListWebAuthnCredentials(ctx context.Context, user parley.UserID) ([]*parley.WebAuthnCredential, error) {
	const op = "sqldb.ListWebAuthnCredentials"
	rows, err := db.query(ctx, `SELECT `+webauthnColumns+` FROM webauthn_credentials WHERE user_id = ? ORDER BY created_at, id`,
		string(user))
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.WebAuthnCredential
	for rows.Next() {
		c, err := scanWebAuthnCredential(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, c)
	}
	return out, wrap(op, rows.Err())
}

// WebAuthnCredentialByCredentialID finds a credential by the
// authenticator's credential ID.
func (db *DB) WebAuthnCredentialByCredentialID(ctx context.Context, credentialID []byte) (*parley.WebAuthnCredential, error) {
	const op = "sqldb.WebAuthnCredentialByCredentialID"
	st, err := db.stmt(ctx, db.reader, `SELECT `+webauthnColumns+` FROM webauthn_credentials WHERE credential_id = ?`)
	if err != nil {
		return nil, parley.Internal(op, err)
	}
	c, err := scanWebAuthnCredential(st.QueryRowContext(ctx, credentialID))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "credential")
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	return c, nil
}

// CountWebAuthnCredentials counts the user's credentials.
func (db *DB) CountWebAuthnCredentials(ctx context.Context, user parley.UserID) (int, error) {
	var n int
	err := db.get(ctx, `SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = ?`, []any{string(user)}, &n)
	return n, wrap("sqldb.CountWebAuthnCredentials", err)
}

// UseWebAuthnCredential records an assertion if its counter advances. The
// comparison happens in the UPDATE itself, so of two nodes accepting the
// same counter value at once only one succeeds (A1 clone detection holds
// across nodes).
func (db *DB) UseWebAuthnCredential(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) (bool, error) {
	n := int64(signCount)
	res, err := db.exec(ctx, `UPDATE webauthn_credentials SET sign_count = ?, backup_state = ?, last_used_at = ?
		WHERE id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
		n, backupState, ts(at), id, n, n)
	if err != nil {
		return false, wrap("sqldb.UseWebAuthnCredential", err)
	}
	k, err := res.RowsAffected()
	if err != nil {
		return false, wrap("sqldb.UseWebAuthnCredential", err)
	}
	return k == 1, nil
}

// DeleteWebAuthnCredential deletes one of the user's credentials. With
// keepLast the user's row is locked first (PostgreSQL; SQLite's single
// writer already serialises), so two concurrent deletions cannot together
// remove the last second factor of a user who must have one (A2).
func (db *DB) DeleteWebAuthnCredential(ctx context.Context, user parley.UserID, id string, keepLast bool) error {
	const op = "sqldb.DeleteWebAuthnCredential"
	return db.writeTx(ctx, op, func(t *tx) error {
		if keepLast {
			var uid string
			if err := t.get(`SELECT id FROM users WHERE id = ?`+db.d.forUpdate, []any{string(user)}, &uid); err != nil {
				return userErr(op, err)
			}
			var mine, total int
			if err := t.get(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN id = ? THEN 1 ELSE 0 END), 0)
				FROM webauthn_credentials WHERE user_id = ?`, []any{id, string(user)}, &total, &mine); err != nil {
				return err
			}
			if mine == 1 && total <= 1 {
				return &parley.Error{Code: parley.CodeConflict, Message: "this is the account's last second factor", Op: op}
			}
		}
		res, err := t.exec(`DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ?`, id, string(user))
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			if err == sql.ErrNoRows {
				return notFound(op, "credential")
			}
			return err
		}
		return nil
	})
}

// PutWebAuthnCeremony stores a begun ceremony, replacing the session's
// earlier one of the same purpose (so a session holds at most three), and
// sweeps expired ceremonies on the way: the table needs no other janitor.
func (db *DB) PutWebAuthnCeremony(ctx context.Context, c *parley.WebAuthnCeremony) error {
	return db.writeTx(ctx, "sqldb.PutWebAuthnCeremony", func(t *tx) error {
		if _, err := t.exec(`DELETE FROM webauthn_ceremonies WHERE expires_at < ?`, ts(c.CreatedAt)); err != nil {
			return err
		}
		_, err := t.exec(`INSERT INTO webauthn_ceremonies (session_id, purpose, user_id, data, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (session_id, purpose) DO UPDATE SET user_id = excluded.user_id, data = excluded.data,
				created_at = excluded.created_at, expires_at = excluded.expires_at`,
			c.SessionID, string(c.Purpose), string(c.UserID), c.Data, ts(c.CreatedAt), ts(c.ExpiresAt))
		return err
	})
}

// TakeWebAuthnCeremony deletes and returns a ceremony in one statement:
// a challenge is answered at most once, even by two nodes at the same
// instant (replay protection, A1).
func (db *DB) TakeWebAuthnCeremony(ctx context.Context, sessionID string, purpose parley.WebAuthnPurpose) (*parley.WebAuthnCeremony, error) {
	const op = "sqldb.TakeWebAuthnCeremony"
	c := &parley.WebAuthnCeremony{SessionID: sessionID, Purpose: purpose}
	var created, expires int64
	err := db.writeGet(ctx, `DELETE FROM webauthn_ceremonies WHERE session_id = ? AND purpose = ?
		RETURNING user_id, data, created_at, expires_at`, []any{sessionID, string(purpose)}, &c.UserID, &c.Data, &created, &expires)
	if err == sql.ErrNoRows {
		return nil, notFound(op, "ceremony")
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	c.CreatedAt, c.ExpiresAt = tm(created), tm(expires)
	return c, nil
}
