package sqldb

import (
	"context"
	"path/filepath"
	"testing"
)

// The durability and integrity contract of SQLite is a set of per-connection
// pragmas; a typo in the DSN would silently drop one, so check what the
// connections really run with.
func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		pool   string
		pragma string
		want   string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "synchronous", "2"}, // FULL: fsync at every commit
		{"writer", "foreign_keys", "1"},
		{"writer", "temp_store", "2"}, // MEMORY
		{"writer", "trusted_schema", "0"},
		{"writer", "secure_delete", "1"},
		{"writer", "query_only", "0"},
		{"reader", "synchronous", "2"},
		{"reader", "foreign_keys", "1"},
		{"reader", "query_only", "1"},
	} {
		pool := db.writer
		if tc.pool == "reader" {
			pool = db.reader
		}
		var got string
		if err := pool.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("%s %s: %v", tc.pool, tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", tc.pool, tc.pragma, got, tc.want)
		}
	}
	if _, err := db.reader.ExecContext(ctx, "INSERT INTO settings (name, value) VALUES ('x', 'y')"); err == nil {
		t.Error("a reader connection could write")
	}
}

func TestRebindDollar(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                          "SELECT 1",
		"a = ? AND b IN (?, ?)":             "a = $1 AND b IN ($2, $3)",
		"VALUES (?, ?), (?, ?), (?, ?, ?) ": "VALUES ($1, $2), ($3, $4), ($5, $6, $7) ",
		"é = ?":                             "é = $1",
	} {
		if got := rebindDollar(in); got != want {
			t.Errorf("rebindDollar(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInList(t *testing.T) {
	backing := []any{"a", "b", "c", "d", "e"}
	for n, wantSize := range map[int]int{1: 1, 2: 4, 4: 4, 5: 16} {
		list, args := inList(backing[:n])
		if len(args) != wantSize || list != placeholders(wantSize) {
			t.Errorf("inList(%d): %d args, %q", n, len(args), list)
		}
		if args[len(args)-1] != backing[n-1] {
			t.Errorf("inList(%d) padded with %v", n, args[len(args)-1])
		}
	}
	if backing[1] != "b" || backing[4] != "e" {
		t.Errorf("inList wrote into the caller's array: %v", backing)
	}
}
