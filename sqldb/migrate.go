package sqldb

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"time"
)

// The schema, one directory per dialect, embedded so that the binary carries
// the schema it expects. Files are applied in name order (NNNN_name.sql).
//
// A dozen lines of runner instead of a migration library (goose was the
// candidate in DESIGN.md §6): it keeps the dependency tree, the SBOM (V1) and
// the vulnerability surface (V2) smaller, and forward-only, per-file,
// transactional application is all Parley needs.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrate applies every migration file not yet recorded in
// schema_migrations, each in its own transaction together with its record.
// On PostgreSQL an advisory lock makes nodes starting together apply each
// file once; on SQLite the single writer serialises.
func (db *DB) migrate(ctx context.Context) error {
	dir := path.Join("migrations", db.d.name)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		body, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if err := db.applyMigration(ctx, e.Name(), string(body)); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, version, body string) error {
	t, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback() //nolint:errcheck // no-op after Commit
	if err := db.d.lock(ctx, t, lockKeyMigrations); err != nil {
		return err
	}
	if _, err := t.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	var n int
	if err := t.QueryRowContext(ctx, db.d.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// No arguments: both drivers then run the file's several statements.
	if _, err := t.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := t.ExecContext(ctx, db.d.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`),
		version, ts(time.Now())); err != nil {
		return err
	}
	if err := t.Commit(); err != nil {
		return err
	}
	db.log.Info("applied database migration", "version", version, "dialect", db.d.name)
	return nil
}
