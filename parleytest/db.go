// Package parleytest provides fixtures for tests: databases (and later a
// whole in-process server).
//
// Store tests run on SQLite always and on PostgreSQL too when
// PARLEY_TEST_POSTGRES_DSN names a server (DESIGN.md §8); `source
// .ci/postgres.sh` starts a throwaway one with TLS and exports it.
package parleytest

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx", for the admin connection

	"github.com/parleyhq/parley/sqldb"
)

// PostgresEnv is the environment variable naming an admin DSN of a
// PostgreSQL server for tests, e.g.
// postgres://parley:pw@127.0.0.1:55432/postgres?sslmode=verify-full&sslrootcert=/tmp/…/ca.pem
// The role must be allowed to create databases.
const PostgresEnv = "PARLEY_TEST_POSTGRES_DSN"

// NamedDB is a store under test and the name of its dialect, for t.Run.
type NamedDB struct {
	Name string
	DB   *sqldb.DB
}

// Stores returns a fresh SQLite store and, when PARLEY_TEST_POSTGRES_DSN is
// set, a fresh PostgreSQL store. Both are closed (and the PostgreSQL
// database dropped) when the test ends.
func Stores(t testing.TB) []NamedDB {
	t.Helper()
	dbs := []NamedDB{{Name: "sqlite", DB: NewSQLite(t)}}
	if os.Getenv(PostgresEnv) != "" {
		dbs = append(dbs, NamedDB{Name: "postgres", DB: NewPostgres(t)})
	}
	return dbs
}

// ForEachStore runs fn as a subtest on each store of Stores.
func ForEachStore(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	for _, s := range Stores(t) {
		t.Run(s.Name, func(t *testing.T) { fn(t, s.DB) })
	}
}

// NewSQLite opens a store on a new SQLite file in a temporary directory.
func NewSQLite(t testing.TB) *sqldb.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqldb.Open(context.Background(), "sqlite:"+path, discardLogger())
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// NewPostgres opens a store on a fresh database (see NewPostgresDSN),
// closed and dropped when the test ends. It skips the test if
// PARLEY_TEST_POSTGRES_DSN is unset.
func NewPostgres(t testing.TB) *sqldb.DB {
	t.Helper()
	dsn := NewPostgresDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sqldb.Open(ctx, dsn, discardLogger())
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() }) // runs before the drop registered earlier
	return db
}

func dropDatabase(t testing.TB, admin *sql.DB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("drop test database %s: %v", name, err)
	}
	admin.Close()
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
