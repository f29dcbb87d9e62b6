package sqldb_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

func TestOpenRefusesUnverifiedPostgres(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:secret-pw@127.0.0.1:5432/db",
		"postgres://u:secret-pw@127.0.0.1:5432/db?sslmode=disable",
		"postgresql://u:secret-pw@127.0.0.1:5432/db?sslmode=require",
		"postgres://u:secret-pw@127.0.0.1:5432/db?sslmode=verify-ca",
		"postgres://u:secret-pw@127.0.0.1:5432/db?sslmode=prefer",
	} {
		db, err := sqldb.Open(context.Background(), dsn, nil)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded, want a refusal (T5)", dsn)
			continue
		}
		if !strings.Contains(err.Error(), "verify-full") {
			t.Errorf("Open(%q): %v, want it to name verify-full", dsn, err)
		}
		if strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("Open error reveals the password: %v", err)
		}
	}
}

func TestOpenBadDSN(t *testing.T) {
	for _, dsn := range []string{"", "sqlite:", "mysql://x", filepath.Join(t.TempDir(), "a?b.db")} {
		if db, err := sqldb.Open(context.Background(), dsn, nil); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

func TestSQLiteFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "parley.db")
	for _, dsn := range []string{"sqlite:" + path, path} { // second open: migrations already applied
		db, err := sqldb.Open(ctx, dsn, nil)
		must(t, err)
		if db.Dialect() != "sqlite" {
			t.Errorf("Dialect = %q", db.Dialect())
		}
		must(t, db.Ping(ctx))
		must(t, db.PutSetting(ctx, "k", dsn))
		must(t, db.Close())
	}
	for _, name := range []string{"parley.db", "parley.db-wal", "parley.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		must(t, err)
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, perm)
		}
	}

	// A file left readable by others is tightened.
	must(t, os.Chmod(path, 0o644))
	db, err := sqldb.Open(ctx, path, nil)
	must(t, err)
	if v, err := db.GetSetting(ctx, "k"); err != nil || v != path {
		t.Errorf("reopened store lost data: %q %v", v, err)
	}
	db.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after reopen, want 0600", fi.Mode().Perm())
	}
}

// The audit table refuses UPDATE and DELETE even to SQL that bypasses the
// store (L3). Checked on SQLite through a second, raw connection.
func TestAuditAppendOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqldb.Open(ctx, path, nil)
	must(t, err)
	defer db.Close()
	must(t, db.AppendAudit(ctx, &parley.AuditRecord{Time: t0, Action: "a"}, testLink))

	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	must(t, err)
	defer raw.Close()
	for _, stmt := range []string{
		"UPDATE audit_events SET action = 'forged'",
		"DELETE FROM audit_events",
	} {
		if _, err := raw.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused", stmt, err)
		}
	}
	recs, err := db.ListAudit(ctx, 0, 10)
	must(t, err)
	if len(recs) != 1 || recs[0].Action != "a" {
		t.Errorf("audit records changed: %+v", recs)
	}
}

func TestPing(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		must(t, db.Ping(context.Background()))
		if d := db.Dialect(); d != "sqlite" && d != "postgres" {
			t.Errorf("Dialect = %q", d)
		}
	})
}
