// Package sqldb stores Parley's data in SQLite (one node, embedded, the
// default of `parleyd serve`) or PostgreSQL (several nodes sharing one
// database, M7). *DB implements parley.Store on both with the same queries:
// SQL is written once with `?` placeholders and dialect.go holds every
// difference, so a fix or a new query cannot drift between the two
// (DESIGN.md §7). The schema is embedded and migrated at Open.
//
// Security properties that live here:
//   - Parameterised SQL only (I3): values are always bound, never formatted
//     into a query; the only text assembled at run time is a run of
//     placeholders whose count comes from the code.
//   - PostgreSQL is reached only with sslmode=verify-full (T5).
//   - The SQLite file is created 0600 and committed with synchronous=FULL:
//     an acknowledged message is never lost (DESIGN.md §3).
//   - Message bodies are never stored, only Message.Sealed (D2); there is no
//     column a body could land in.
//   - The audit table is append-only, enforced by triggers as well (L3), and
//     its hash chain is extended under a lock that spans nodes.
//
// Times are stored as BIGINT nanoseconds since the Unix epoch (UTC) in both
// databases, so that the queries stay identical and a time read back equals
// the one written to the nanosecond (the audit hash covers it). The zero
// time is stored as 0; times outside 1678–2262 are clamped to that range.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

var _ parley.Store = (*DB)(nil)

// DB is a Parley store on SQLite or PostgreSQL. It is safe for concurrent use.
type DB struct {
	d *dialect
	// writer runs every write. On SQLite it has exactly one connection:
	// SQLite allows one writer at a time, and queuing in Go is cheaper and
	// fairer than retrying on SQLITE_BUSY. On PostgreSQL it is the pool.
	writer *sql.DB
	// reader runs reads: on SQLite a pool of query_only connections that
	// WAL lets run beside the writer; on PostgreSQL the same pool as writer.
	reader *sql.DB
	log    *slog.Logger

	stmts sync.Map // stmtKey → *sql.Stmt, prepared once per pool
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

// Open opens the database named by dsn and applies pending migrations.
// A dsn of the form postgres://… or postgresql://… selects PostgreSQL and
// must carry sslmode=verify-full (T5). Anything else is a SQLite file:
// "sqlite:/abs/path/parley.db" or a plain path; the file is created 0600.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := &DB{log: log}
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		pool, err := openPostgres(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("sqldb: open postgres: %w", err)
		}
		db.d, db.writer, db.reader = postgresDialect, pool, pool
	default:
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" || strings.Contains(path, "://") {
			return nil, fmt.Errorf("sqldb: unsupported DSN: want postgres://…, postgresql://…, sqlite:/path or a file path")
		}
		w, r, err := openSQLite(ctx, path, log)
		if err != nil {
			return nil, fmt.Errorf("sqldb: open sqlite: %w", err)
		}
		db.d, db.writer, db.reader = sqliteDialect, w, r
		defer restrictSidecars(path)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqldb: migrate: %w", err)
	}
	return db, nil
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.d.name }

// Ping reports whether the database answers a query (readiness).
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return &parley.Error{Code: parley.CodeUnavailable, Message: "database unavailable", Op: "sqldb.Ping", Err: err}
	}
	return nil
}

// Close closes the prepared statements and the connections.
func (db *DB) Close() error {
	db.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		db.stmts.Delete(k)
		return true
	})
	err := db.writer.Close()
	if db.reader != db.writer {
		err = errors.Join(err, db.reader.Close())
	}
	return err
}

// stmt returns the statement for query prepared on pool, preparing it on
// first use. Queries are constants or built from constants and a bounded set
// of placeholder counts, so the cache stays small.
func (db *DB) stmt(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{pool, query}
	if s, ok := db.stmts.Load(k); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := pool.PrepareContext(ctx, db.d.rebind(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(k, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// query runs a read query on the reader pool.
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := db.stmt(ctx, db.reader, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// get runs a read query that returns one row and scans it into dest;
// sql.ErrNoRows if there is none.
func (db *DB) get(ctx context.Context, q string, args []any, dest ...any) error {
	s, err := db.stmt(ctx, db.reader, q)
	if err != nil {
		return err
	}
	return s.QueryRowContext(ctx, args...).Scan(dest...)
}

// exec runs one write statement outside an explicit transaction.
func (db *DB) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	s, err := db.stmt(ctx, db.writer, q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// execOne runs a write statement that must touch exactly one row; none is
// sql.ErrNoRows.
func (db *DB) execOne(ctx context.Context, q string, args ...any) error {
	res, err := db.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	return oneRow(res)
}

// writeQuery runs a write statement with RETURNING on the writer.
func (db *DB) writeQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := db.stmt(ctx, db.writer, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// writeGet runs a write statement with RETURNING that touches at most one
// row and scans that row into dest; no row is sql.ErrNoRows.
func (db *DB) writeGet(ctx context.Context, q string, args []any, dest ...any) error {
	rows, err := db.writeQuery(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	return nil
}

// tx is a write transaction whose statements come from the cache.
type tx struct {
	ctx context.Context
	db  *DB
	tx  *sql.Tx
	// uncached are queries prepared on the transaction because the cache
	// had no statement for them yet; writeTx caches them after commit.
	uncached []string
}

// stmt returns q's statement bound to the transaction. A statement missing
// from the cache is prepared on the transaction itself: preparing it on the
// pool would wait for a connection, and on SQLite the pool's only
// connection is the one this transaction holds.
func (t *tx) stmt(q string) (*sql.Stmt, error) {
	if s, ok := t.db.stmts.Load(stmtKey{t.db.writer, q}); ok {
		return t.tx.StmtContext(t.ctx, s.(*sql.Stmt)), nil
	}
	t.uncached = append(t.uncached, q)
	return t.tx.PrepareContext(t.ctx, t.db.d.rebind(q))
}

func (t *tx) exec(q string, args ...any) (sql.Result, error) {
	s, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(t.ctx, args...)
}

func (t *tx) query(q string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(t.ctx, args...)
}

func (t *tx) get(q string, args []any, dest ...any) error {
	s, err := t.stmt(q)
	if err != nil {
		return err
	}
	return s.QueryRowContext(t.ctx, args...).Scan(dest...)
}

// writeTx runs fn in one write transaction, committing if it returns nil.
// Errors come back as *parley.Error (see wrap).
func (db *DB) writeTx(ctx context.Context, op string, fn func(*tx) error) error {
	sqlTx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err)
	}
	t := &tx{ctx: ctx, db: db, tx: sqlTx}
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return wrap(op, err)
	}
	if err := sqlTx.Commit(); err != nil {
		return wrap(op, err)
	}
	for _, q := range t.uncached {
		_, _ = db.stmt(ctx, db.writer, q) // the connection is free again
	}
	return nil
}

// wrap maps a database error to the store's contract: a missing row is
// CodeNotFound, a uniqueness violation CodeConflict, a reference to a row
// that does not exist CodeNotFound, anything else internal (its cause kept
// for the logs, never shown).
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *parley.Error
	switch {
	case errors.As(err, &pe):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return &parley.Error{Code: parley.CodeNotFound, Message: "not found", Op: op}
	case isUniqueViolation(err):
		return &parley.Error{Code: parley.CodeConflict, Message: "already exists", Op: op, Err: err}
	case isForeignKeyViolation(err):
		return &parley.Error{Code: parley.CodeNotFound, Message: "referenced object not found", Op: op, Err: err}
	}
	return parley.Internal(op, err)
}

// notFound is the error for a missing row named by what.
func notFound(op, what string) error {
	return &parley.Error{Code: parley.CodeNotFound, Message: what + " not found", Op: op}
}

var (
	minTime = time.Unix(0, math.MinInt64+1).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// ts encodes t for storage: nanoseconds since the epoch, 0 for the zero time.
func ts(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minTime):
		return math.MinInt64 + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// tm decodes a stored time, always in UTC.
func tm(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// nullString stores an empty string as NULL (optional references, so that
// foreign keys and partial unique indexes apply only to real values).
func nullString[S ~string](s S) any {
	if s == "" {
		return nil
	}
	return string(s)
}

// nullBytes stores a nil slice as NULL.
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// placeholders returns "?, ?, …" with n marks, and the "(?, …), (?, …)" form
// for rows of width columns.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func rowPlaceholders(rows, width int) string {
	row := "(" + placeholders(width) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}
