package sqldb

import (
	"context"
	"database/sql"

	"github.com/parleyhq/parley"
)

const auditColumns = `seq, occurred_at, actor_id, actor_name, action, target, source_ip, result, reason, prev_hash, hash`

func scanAudit(row interface{ Scan(...any) error }) (*parley.AuditRecord, error) {
	var r parley.AuditRecord
	var at int64
	if err := row.Scan(&r.Seq, &at, &r.ActorID, &r.ActorName, &r.Action, &r.Target, &r.SourceIP, &r.Result,
		&r.Reason, &r.PrevHash, &r.Hash); err != nil {
		return nil, err
	}
	r.Time = tm(at)
	return &r, nil
}

// AppendAudit extends the hash chain (L3) by rec. The read of the last
// record, the link and the insert happen in one transaction under the
// chain's lock (dialect.go: an advisory lock on PostgreSQL, the single writer
// on SQLite), so that concurrent appends, from this node or others, form one
// chain with no fork and no gap. If it fails nothing is stored and the
// caller must refuse the audited operation (L5: fail closed).
//
// rec.Time is normalised to UTC first, so that the record linked is exactly
// the record read back (times round-trip to the nanosecond, in UTC).
func (db *DB) AppendAudit(ctx context.Context, rec *parley.AuditRecord, link parley.AuditLink) error {
	const op = "sqldb.AppendAudit"
	rec.Time = tm(ts(rec.Time))
	return db.writeTx(ctx, op, func(t *tx) error {
		if err := t.db.d.lock(t.ctx, t.tx, lockKeyAuditChain); err != nil {
			return err
		}
		s, err := t.stmt(`SELECT ` + auditColumns + ` FROM audit_events ORDER BY seq DESC LIMIT 1`)
		if err != nil {
			return err
		}
		prev, err := scanAudit(s.QueryRowContext(t.ctx))
		switch {
		case err == sql.ErrNoRows:
			prev, rec.Seq = nil, 1
		case err != nil:
			return err
		default:
			rec.Seq = prev.Seq + 1
		}
		if err := link(prev, rec); err != nil {
			return parley.Internal(op, err)
		}
		_, err = t.exec(`INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.Seq, ts(rec.Time), string(rec.ActorID), rec.ActorName, rec.Action, rec.Target, rec.SourceIP,
			rec.Result, rec.Reason, nullBytes(rec.PrevHash), rec.Hash)
		return err
	})
}

// ListAudit returns up to limit records with Seq > afterSeq, ascending.
func (db *DB) ListAudit(ctx context.Context, afterSeq int64, limit int) ([]*parley.AuditRecord, error) {
	const op = "sqldb.ListAudit"
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.AuditRecord
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// GetSetting returns the value of a named setting.
func (db *DB) GetSetting(ctx context.Context, key string) (string, error) {
	const op = "sqldb.GetSetting"
	var v string
	err := db.get(ctx, `SELECT value FROM settings WHERE name = ?`, []any{key}, &v)
	if err == sql.ErrNoRows {
		return "", notFound(op, "setting")
	}
	return v, wrap(op, err)
}

// PutSetting creates or replaces a setting.
func (db *DB) PutSetting(ctx context.Context, key, value string) error {
	_, err := db.exec(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, key, value)
	return wrap("sqldb.PutSetting", err)
}

// TakeSetting deletes a setting and returns its value in one statement, so
// that a one-time value (the setup token's hash, A4) is taken at most once
// even by concurrent requests on several nodes.
func (db *DB) TakeSetting(ctx context.Context, key string) (string, error) {
	const op = "sqldb.TakeSetting"
	var v string
	err := db.writeGet(ctx, `DELETE FROM settings WHERE name = ? RETURNING value`, []any{key}, &v)
	if err == sql.ErrNoRows {
		return "", notFound(op, "setting")
	}
	return v, wrap(op, err)
}
