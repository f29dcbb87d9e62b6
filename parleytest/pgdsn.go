package parleytest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"
)

// NewPostgresDSN creates an empty database parley_test_<random> on the
// server named by PARLEY_TEST_POSTGRES_DSN and returns a DSN for it with the
// same credentials and TLS parameters; the database is dropped when the
// test ends. It skips the test if the variable is unset.
func NewPostgresDSN(t testing.TB) string {
	t.Helper()
	adminDSN := os.Getenv(PostgresEnv)
	if adminDSN == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (source .ci/postgres.sh starts a server)", PostgresEnv)
	}
	u, err := url.Parse(adminDSN)
	if err != nil {
		t.Fatalf("%s is not a URL", PostgresEnv) // the error text would echo the password
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		t.Fatalf("postgres admin connection: %v", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	// Hex digits only, so formatting the name into the statement is safe:
	// identifiers cannot be bound as parameters.
	name := "parley_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { dropDatabase(t, admin, name) })
	u.Path = "/" + name
	return u.String()
}
