package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

// TestLoginSources: a completed login vouches for its source from then on;
// a later one moves the time forward, never back.
func TestLoginSources(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := newUser("sourced")
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		if seen, err := db.LoginSourceSince(ctx, u.ID, "198.51.100.7", t0.Add(-time.Hour)); err != nil || seen {
			t.Fatalf("before any login: %v, %v", seen, err)
		}
		for _, at := range []time.Time{t0, t0.Add(24 * time.Hour)} {
			if err := db.TouchLoginSource(ctx, u.ID, "198.51.100.7", at); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			source string
			since  time.Time
			want   bool
		}{
			{"198.51.100.7", t0.Add(23 * time.Hour), true},
			{"198.51.100.7", t0.Add(25 * time.Hour), false},
			{"203.0.113.9", t0, false},
		}
		for _, c := range cases {
			if seen, err := db.LoginSourceSince(ctx, u.ID, c.source, c.since); err != nil || seen != c.want {
				t.Errorf("%s since %v: %v, %v; want %v", c.source, c.since, seen, err, c.want)
			}
		}
	})
}
