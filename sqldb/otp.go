package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parleyhq/parley"
)

// One-time codes, the contacts they are sent to, and push approval requests
// (A1). Codes are stored as keyed MACs only and addresses sealed (D2); the
// sealing and MACing happen in auth, this file sees opaque bytes.

var _ parley.OTPStore = (*DB)(nil)

const otpKeyID = "current"

// EnsureOTPKey stores sealed unless a key exists and returns the stored one:
// nodes starting together race on the insert and all read the winner.
func (db *DB) EnsureOTPKey(ctx context.Context, sealed []byte, at time.Time) ([]byte, error) {
	const op = "sqldb.EnsureOTPKey"
	if _, err := db.exec(ctx, `INSERT INTO otp_keys (id, sealed, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		otpKeyID, sealed, ts(at)); err != nil {
		return nil, wrap(op, err)
	}
	var stored []byte
	// Read on the writer: a SQLite reader connection could lag behind the
	// write just made.
	st, err := db.stmt(ctx, db.writer, `SELECT sealed FROM otp_keys WHERE id = ?`)
	if err != nil {
		return nil, wrap(op, err)
	}
	if err := st.QueryRowContext(ctx, otpKeyID).Scan(&stored); err != nil {
		return nil, wrap(op, err)
	}
	return stored, nil
}

const otpColumns = `id, user_id, purpose, channel, binding, payload, code_mac, created_at, expires_at, attempts, used_at`

func scanOTP(row interface{ Scan(...any) error }) (*parley.OTPChallenge, error) {
	var (
		c                        parley.OTPChallenge
		created, expires, usedAt int64
	)
	if err := row.Scan(&c.ID, &c.UserID, &c.Purpose, &c.Channel, &c.Binding, &c.Payload, &c.CodeMAC, &created, &expires,
		&c.Attempts, &usedAt); err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt, c.UsedAt = tm(created), tm(expires), tm(usedAt)
	return &c, nil
}

// CreateOTPChallenge runs check on the user's recent challenges and inserts
// c if it accepts, in one transaction. The user's row is locked first (FOR
// UPDATE on PostgreSQL; SQLite's single writer serialises anyway), so two
// nodes sending at once cannot both pass the resend limit.
func (db *DB) CreateOTPChallenge(ctx context.Context, c *parley.OTPChallenge, since time.Time, check func(recent []time.Time) error) error {
	return db.writeTx(ctx, "sqldb.CreateOTPChallenge", func(t *tx) error {
		var id string
		if err := t.get(`SELECT id FROM users WHERE id = ?`+db.d.forUpdate, []any{string(c.UserID)}, &id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return notFound("sqldb.CreateOTPChallenge", "user")
			}
			return err
		}
		rows, err := t.query(`SELECT created_at FROM otp_challenges WHERE user_id = ? AND created_at >= ? ORDER BY created_at DESC`,
			string(c.UserID), ts(since))
		if err != nil {
			return err
		}
		var recent []time.Time
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			recent = append(recent, tm(n))
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := check(recent); err != nil {
			return err
		}
		_, err = t.exec(`INSERT INTO otp_challenges (`+otpColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, string(c.UserID), string(c.Purpose), c.Channel, c.Binding, nullBytes(c.Payload), c.CodeMAC, ts(c.CreatedAt), ts(c.ExpiresAt),
			c.Attempts, ts(c.UsedAt))
		return err
	})
}

// LatestOTPChallenge returns the newest challenge for this user, purpose,
// channel and binding. It reads on the writer so that a code sent a moment
// ago on this node is always found.
func (db *DB) LatestOTPChallenge(ctx context.Context, user parley.UserID, purpose parley.OTPPurpose, channel, binding string) (*parley.OTPChallenge, error) {
	const op = "sqldb.LatestOTPChallenge"
	st, err := db.stmt(ctx, db.writer, `SELECT `+otpColumns+` FROM otp_challenges
		WHERE user_id = ? AND purpose = ? AND channel = ? AND binding = ? ORDER BY created_at DESC, id DESC LIMIT 1`)
	if err != nil {
		return nil, wrap(op, err)
	}
	c, err := scanOTP(st.QueryRowContext(ctx, string(user), string(purpose), channel, binding))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound(op, "code")
		}
		return nil, wrap(op, err)
	}
	return c, nil
}

// IncrementOTPAttempts counts a wrong code in one statement, so that
// concurrent guesses cannot undercount.
func (db *DB) IncrementOTPAttempts(ctx context.Context, id string) (int, error) {
	const op = "sqldb.IncrementOTPAttempts"
	var n int
	err := db.writeGet(ctx, `UPDATE otp_challenges SET attempts = attempts + 1 WHERE id = ? RETURNING attempts`, []any{id}, &n)
	if err == sql.ErrNoRows {
		return 0, notFound(op, "code")
	}
	return n, wrap(op, err)
}

// ConsumeOTPChallenge uses the code once: the conditional update succeeds
// for exactly one caller.
func (db *DB) ConsumeOTPChallenge(ctx context.Context, id string, at time.Time, maxAttempts int) error {
	err := db.execOne(ctx, `UPDATE otp_challenges SET used_at = ? WHERE id = ? AND used_at = 0 AND attempts < ?`,
		ts(at), id, maxAttempts)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("sqldb.ConsumeOTPChallenge", "code")
	}
	return wrap("sqldb.ConsumeOTPChallenge", err)
}

// DeleteOTPChallenges sweeps challenges created before before.
func (db *DB) DeleteOTPChallenges(ctx context.Context, before time.Time) (int, error) {
	return db.deleteCount(ctx, "sqldb.DeleteOTPChallenges", `DELETE FROM otp_challenges WHERE created_at < ?`, ts(before))
}

func (db *DB) deleteCount(ctx context.Context, op, q string, args ...any) (int, error) {
	res, err := db.exec(ctx, q, args...)
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(n), nil
}

// PutContact upserts the user's contact on c.Channel.
func (db *DB) PutContact(ctx context.Context, c *parley.Contact) error {
	_, err := db.exec(ctx, `INSERT INTO user_contacts (user_id, channel, address_sealed, verified, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, channel) DO UPDATE SET address_sealed = excluded.address_sealed,
		verified = excluded.verified, updated_at = excluded.updated_at`,
		string(c.UserID), c.Channel, c.AddressSealed, c.Verified, ts(c.UpdatedAt))
	return wrap("sqldb.PutContact", err)
}

// Contacts lists the user's contacts by channel.
func (db *DB) Contacts(ctx context.Context, user parley.UserID) ([]*parley.Contact, error) {
	const op = "sqldb.Contacts"
	rows, err := db.query(ctx, `SELECT user_id, channel, address_sealed, verified, updated_at FROM user_contacts
		WHERE user_id = ? ORDER BY channel`, string(user))
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.Contact
	for rows.Next() {
		var (
			c       parley.Contact
			updated int64
		)
		if err := rows.Scan(&c.UserID, &c.Channel, &c.AddressSealed, &c.Verified, &updated); err != nil {
			return nil, wrap(op, err)
		}
		c.UpdatedAt = tm(updated)
		out = append(out, &c)
	}
	return out, wrap(op, rows.Err())
}

// DeleteContact removes a contact.
func (db *DB) DeleteContact(ctx context.Context, user parley.UserID, channel string) error {
	err := db.execOne(ctx, `DELETE FROM user_contacts WHERE user_id = ? AND channel = ?`, string(user), channel)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("sqldb.DeleteContact", "contact")
	}
	return wrap("sqldb.DeleteContact", err)
}

const pushColumns = `id, user_id, session_id, token_hash, number, status, source_ip, location, user_agent,
	created_at, expires_at, decided_at, decided_by, reason`

func scanPush(row interface{ Scan(...any) error }) (*parley.PushRequest, error) {
	var (
		p                         parley.PushRequest
		created, expires, decided int64
	)
	if err := row.Scan(&p.ID, &p.UserID, &p.SessionID, &p.TokenHash, &p.Number, &p.Status, &p.SourceIP, &p.Location,
		&p.UserAgent, &created, &expires, &decided, &p.DecidedBy, &p.Reason); err != nil {
		return nil, err
	}
	p.CreatedAt, p.ExpiresAt, p.DecidedAt = tm(created), tm(expires), tm(decided)
	return &p, nil
}

// CreatePushRequest inserts p; an unknown user is CodeNotFound.
func (db *DB) CreatePushRequest(ctx context.Context, p *parley.PushRequest) error {
	_, err := db.exec(ctx, `INSERT INTO push_requests (`+pushColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, string(p.UserID), p.SessionID, p.TokenHash, p.Number, string(p.Status), p.SourceIP, p.Location, p.UserAgent,
		ts(p.CreatedAt), ts(p.ExpiresAt), ts(p.DecidedAt), p.DecidedBy, p.Reason)
	return wrap("sqldb.CreatePushRequest", err)
}

// PushRequestByID reads a request on the writer, so that a decision just
// taken on this node is seen by the next poll.
func (db *DB) PushRequestByID(ctx context.Context, id string) (*parley.PushRequest, error) {
	const op = "sqldb.PushRequestByID"
	st, err := db.stmt(ctx, db.writer, `SELECT `+pushColumns+` FROM push_requests WHERE id = ?`)
	if err != nil {
		return nil, wrap(op, err)
	}
	p, err := scanPush(st.QueryRowContext(ctx, id))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound(op, "push request")
		}
		return nil, wrap(op, err)
	}
	return p, nil
}

// PendingPushRequests lists the user's open requests, oldest first (a
// handful at most: three per pending login, five minutes each).
func (db *DB) PendingPushRequests(ctx context.Context, user parley.UserID, now time.Time) ([]*parley.PushRequest, error) {
	const op = "sqldb.PendingPushRequests"
	rows, err := db.query(ctx, `SELECT `+pushColumns+` FROM push_requests WHERE user_id = ? AND status = ? AND expires_at > ?
		ORDER BY created_at, id LIMIT 100`, string(user), string(parley.PushPending), ts(now))
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.PushRequest
	for rows.Next() {
		p, err := scanPush(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, p)
	}
	return out, wrap(op, rows.Err())
}

// CountPushRequests counts the requests made for one pending login.
func (db *DB) CountPushRequests(ctx context.Context, sessionID string) (int, error) {
	var n int
	st, err := db.stmt(ctx, db.writer, `SELECT COUNT(*) FROM push_requests WHERE session_id = ?`)
	if err != nil {
		return 0, wrap("sqldb.CountPushRequests", err)
	}
	err = st.QueryRowContext(ctx, sessionID).Scan(&n)
	return n, wrap("sqldb.CountPushRequests", err)
}

// TransitionPushRequest is a compare-and-set on the status: of concurrent
// deciders (an approve and a deny, or two devices) exactly one wins.
func (db *DB) TransitionPushRequest(ctx context.Context, id string, from, to parley.PushStatus, at time.Time, by, reason string) (bool, error) {
	err := db.execOne(ctx, `UPDATE push_requests SET status = ?, decided_at = ?, decided_by = ?, reason = ? WHERE id = ? AND status = ?`,
		string(to), ts(at), by, reason, id, string(from))
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap("sqldb.TransitionPushRequest", err)
	}
	return true, nil
}

// ExpirePushRequests expires every pending request due by now and returns
// them (each exactly once, whichever node sweeps).
func (db *DB) ExpirePushRequests(ctx context.Context, now time.Time) ([]*parley.PushRequest, error) {
	const op = "sqldb.ExpirePushRequests"
	rows, err := db.writeQuery(ctx, `UPDATE push_requests SET status = ?, decided_at = ?, reason = ?
		WHERE status = ? AND expires_at <= ? RETURNING `+pushColumns,
		string(parley.PushExpired), ts(now), "expired unanswered", string(parley.PushPending), ts(now))
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.PushRequest
	for rows.Next() {
		p, err := scanPush(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, wrap(op, rows.Close())
}

// DeletePushRequests sweeps requests that expired before before.
func (db *DB) DeletePushRequests(ctx context.Context, before time.Time) (int, error) {
	return db.deleteCount(ctx, "sqldb.DeletePushRequests", `DELETE FROM push_requests WHERE expires_at < ?`, ts(before))
}
