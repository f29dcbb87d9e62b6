package sqldb

// This file holds every difference between SQLite and PostgreSQL that the
// queries of this package see. Everything else is written once, with `?`
// placeholders, and runs unchanged on both (DESIGN.md §7: no storage code
// duplicated per dialect). Column types live in migrations/<dialect>/.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	"modernc.org/sqlite"               // also registers driver "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	dialectSQLite   = "sqlite"
	dialectPostgres = "postgres"
)

// Advisory lock keys (PostgreSQL). Arbitrary constants, fixed forever: every
// node must use the same ones.
const (
	lockKeyAuditChain = 0x7061726c65790001 // "parley" ‖ 1: the audit hash chain (L3)
	lockKeyMigrations = 0x7061726c65790002 // "parley" ‖ 2: schema migrations
	lockKeyRoles      = 0x7061726c65790003 // "parley" ‖ 3: role grants and custom roles (Z10)
)

// dialect is the small set of things that differ between the databases.
type dialect struct {
	name string
	// forUpdate is appended to a SELECT that reads rows the transaction
	// will update (conversations.last_seq). SQLite has one writer, which
	// already serialises; PostgreSQL locks the rows so that several nodes
	// can append to one conversation without gaps or duplicates (M7).
	forUpdate string
	// lockStmt takes a transaction-scoped lock with the given key, or is
	// empty where the single writer connection already serialises.
	lockStmt string
	// rebind turns `?` placeholders into the dialect's own.
	rebind func(string) string
}

var (
	sqliteDialect = &dialect{
		name:   dialectSQLite,
		rebind: func(q string) string { return q },
	}
	postgresDialect = &dialect{
		name:      dialectPostgres,
		forUpdate: " FOR UPDATE",
		lockStmt:  "SELECT pg_advisory_xact_lock(?)",
		rebind:    rebindDollar,
	}
)

// lock takes the transaction-scoped lock key (released at commit or
// rollback). On SQLite it does nothing: every write transaction runs on the
// one writer connection and begins IMMEDIATE, so it already holds the
// database's write lock.
func (d *dialect) lock(ctx context.Context, tx *sql.Tx, key int64) error {
	if d.lockStmt == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, d.rebind(d.lockStmt), key)
	return err
}

// rebindDollar rewrites `?` into $1, $2, … Queries in this package never
// contain a literal question mark, so a plain scan is enough.
func rebindDollar(q string) string {
	n := strings.Count(q, "?")
	if n == 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + n*4)
	i := 0
	for _, r := range q {
		if r == '?' {
			i++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(i))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isUniqueViolation reports whether err is a unique or primary-key
// constraint failure (→ CodeConflict).
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" // unique_violation
	}
	return false
}

// isForeignKeyViolation reports whether err is a reference to a row that does
// not exist (→ CodeNotFound: e.g. a member who is not a user).
func isForeignKeyViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503" // foreign_key_violation
	}
	return false
}

// sqlitePragmas is the durability and integrity contract of the embedded
// database, applied to every connection (busy_timeout first, by the driver):
//   - journal_mode WAL: readers never block the writer;
//   - synchronous FULL: the WAL is fsynced at every commit, so a message
//     acknowledged after AppendMessages returned survives SIGKILL and power
//     loss (DESIGN.md §3);
//   - foreign_keys ON: SQLite leaves them off by default;
//   - temp_store MEMORY: statement journals and sort spills stay in memory,
//     which is faster and leaves no temporary files behind (D6);
//   - trusted_schema OFF, cell_size_check ON: defence in depth against a
//     tampered database file.
const sqlitePragmas = "_pragma=busy_timeout(5000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=foreign_keys(ON)" +
	"&_pragma=temp_store(MEMORY)" +
	"&_pragma=trusted_schema(OFF)" +
	"&_pragma=cell_size_check(ON)" +
	// secure_delete: freed pages are zeroed, so a recalled message's
	// old ciphertext and deleted secrets do not linger in free pages of
	// the database file (D3, D5). The WAL keeps old frames until the next
	// checkpoint; backups are the operator's to destroy.
	"&_pragma=secure_delete(ON)" +
	// 32 MiB of page cache per connection (the default is 2 MiB): the
	// message indexes of a busy server stay in memory.
	"&_pragma=cache_size(-32768)"

// openSQLite opens the file at path with one writer connection and a small
// pool of read-only readers.
func openSQLite(ctx context.Context, path string, log *slog.Logger) (writer, reader *sql.DB, err error) {
	if strings.ContainsAny(path, "?#") {
		return nil, nil, fmt.Errorf("sqlite path %q must not contain '?' or '#'", path)
	}
	if !filepath.IsAbs(path) {
		if path, err = filepath.Abs(path); err != nil {
			return nil, nil, err
		}
	}
	if err := createPrivate(path, log); err != nil {
		return nil, nil, err
	}
	base := "file:" + path + "?" + sqlitePragmas
	// _txlock=immediate: a write transaction takes the write lock at BEGIN,
	// so it can never fail with SQLITE_BUSY halfway, after reading.
	writer, err = sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, nil, err
	}
	writer.SetMaxOpenConns(1) // the one writer: SQLite serialises writes anyway
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// query_only: a reader connection cannot write even by mistake.
	reader, err = sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, nil, err
	}
	reader.SetMaxOpenConns(4)
	reader.SetMaxIdleConns(4)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		reader.Close()
		return nil, nil, err
	}
	return writer, reader, nil
}

// createPrivate creates the database file with mode 0600 if it is absent, so
// that no other local user can read it even for an instant (D2: the message
// ciphertext, hashes and sealed secrets live here). An existing file that is
// more open than 0600 is tightened, with a warning.
func createPrivate(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) // #nosec G304 -- the database path comes from the operator's configuration, not from requests
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		log.Warn("database file was readable by others; restricting it to 0600", "path", path, "mode", fi.Mode().Perm().String())
		if err := os.Chmod(path, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// restrictSidecars makes the -wal and -shm files 0600 too. SQLite already
// creates them with the database file's mode; this guards against files left
// by an older run with a looser umask.
func restrictSidecars(path string) {
	for _, suffix := range []string{"-wal", "-shm"} {
		if fi, err := os.Stat(path + suffix); err == nil && fi.Mode().Perm()&0o077 != 0 {
			_ = os.Chmod(path+suffix, 0o600)
		}
	}
}

// openPostgres opens a PostgreSQL pool. It refuses any DSN that does not
// demand TLS with full certificate and host-name verification (T5): with
// sslmode=require the server is not authenticated, and "prefer" or "disable"
// may send credentials and data in the clear.
func openPostgres(ctx context.Context, dsn string) (*sql.DB, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, errors.New("postgres DSN is not a valid URL") // no %w: the error would echo the password
	}
	if mode := u.Query().Get("sslmode"); mode != "verify-full" {
		return nil, fmt.Errorf("postgres DSN must set sslmode=verify-full (T5), not %q", mode)
	}
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(32)
	pool.SetMaxIdleConns(8)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}
