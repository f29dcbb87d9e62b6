package sqldb_test

import (
	"context"
	"crypto/sha256"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

func newSession(user parley.UserID, id string, created time.Time) *parley.Session {
	h := sha256.Sum256([]byte("token-" + id))
	return &parley.Session{
		ID:           id,
		TokenHash:    h[:],
		UserID:       user,
		Stage:        parley.SessionActive,
		CreatedAt:    created,
		LastActiveAt: created,
		ExpiresAt:    created.Add(12 * time.Hour),
		SourceIP:     "192.0.2.1",
		UserAgent:    "test",
	}
}

func TestSessions(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "ivan")
		s := newSession(u.ID, "s1", t0)
		s.MFAAt = t0.Add(time.Minute)
		must(t, db.CreateSession(ctx, s))
		wantCode(t, db.CreateSession(ctx, s), parley.CodeConflict)
		wantCode(t, db.CreateSession(ctx, newSession(parley.NewUserID(), "s-nouser", t0)), parley.CodeNotFound)

		got, err := db.SessionByTokenHash(ctx, s.TokenHash)
		must(t, err)
		want := *s
		want.CreatedAt, want.LastActiveAt, want.ExpiresAt, want.MFAAt = s.CreatedAt.UTC(), s.LastActiveAt.UTC(), s.ExpiresAt.UTC(), s.MFAAt.UTC()
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("SessionByTokenHash = %+v, want %+v", got, &want)
		}
		_, err = db.SessionByTokenHash(ctx, []byte("unknown"))
		wantCode(t, err, parley.CodeNotFound)

		// A zero MFAAt stays zero.
		s2 := newSession(u.ID, "s2", t0.Add(time.Second))
		s2.Stage = parley.SessionPendingMFA
		must(t, db.CreateSession(ctx, s2))
		got, _ = db.SessionByTokenHash(ctx, s2.TokenHash)
		if !got.MFAAt.IsZero() {
			t.Errorf("zero MFAAt came back as %v", got.MFAAt)
		}

		later := t0.Add(5 * time.Minute)
		must(t, db.TouchSession(ctx, "s1", later))
		got, _ = db.SessionByTokenHash(ctx, s.TokenHash)
		if !got.LastActiveAt.Equal(later) {
			t.Errorf("LastActiveAt = %v, want %v", got.LastActiveAt, later)
		}
		wantCode(t, db.TouchSession(ctx, "nope", later), parley.CodeNotFound)

		for want := 1; want <= 3; want++ {
			n, err := db.IncrementSessionAttempts(ctx, "s2")
			must(t, err)
			if n != want {
				t.Errorf("IncrementSessionAttempts = %d, want %d", n, want)
			}
		}
		_, err = db.IncrementSessionAttempts(ctx, "nope")
		wantCode(t, err, parley.CodeNotFound)

		list, err := db.ListUserSessions(ctx, u.ID)
		must(t, err)
		if len(list) != 2 || list[0].ID != "s1" || list[1].ID != "s2" || list[1].Attempts != 3 {
			t.Errorf("ListUserSessions = %+v", list)
		}

		must(t, db.DeleteSession(ctx, "s1"))
		wantCode(t, db.DeleteSession(ctx, "s1"), parley.CodeNotFound)
		_, err = db.SessionByTokenHash(ctx, s.TokenHash)
		wantCode(t, err, parley.CodeNotFound)
	})
}

func TestConcurrentSessionAttempts(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "judy")
		must(t, db.CreateSession(ctx, newSession(u.ID, "s", t0)))
		const n = 20
		var wg sync.WaitGroup
		seen := make(chan int, n)
		for range n {
			wg.Go(func() {
				c, err := db.IncrementSessionAttempts(ctx, "s")
				if err != nil {
					t.Error(err)
				}
				seen <- c
			})
		}
		wg.Wait()
		close(seen)
		var counts []int
		for c := range seen {
			counts = append(counts, c)
		}
		slices.Sort(counts)
		for i, c := range counts {
			if c != i+1 {
				t.Fatalf("attempt counts %v, want 1…%d each once", counts, n)
			}
		}
	})
}

func TestDeleteUserSessions(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "kim")
		other := createUser(t, db, "lee")
		for _, id := range []string{"a", "b", "c"} {
			must(t, db.CreateSession(ctx, newSession(u.ID, id, t0)))
		}
		must(t, db.CreateSession(ctx, newSession(other.ID, "o", t0)))

		ids, err := db.DeleteUserSessions(ctx, u.ID, "b")
		must(t, err)
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"a", "c"}) {
			t.Errorf("deleted %v, want [a c]", ids)
		}
		left, _ := db.ListUserSessions(ctx, u.ID)
		if len(left) != 1 || left[0].ID != "b" {
			t.Errorf("left %+v, want only b", left)
		}
		ids, err = db.DeleteUserSessions(ctx, u.ID, "")
		must(t, err)
		if !slices.Equal(ids, []string{"b"}) {
			t.Errorf("deleted %v, want [b]", ids)
		}
		ids, err = db.DeleteUserSessions(ctx, u.ID, "")
		must(t, err)
		if len(ids) != 0 {
			t.Errorf("deleted %v from a user with no sessions", ids)
		}
		if o, _ := db.ListUserSessions(ctx, other.ID); len(o) != 1 {
			t.Errorf("another user's sessions touched: %+v", o)
		}
	})
}

func TestDeleteExpiredSessions(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "mia")
		now := t0.Add(24 * time.Hour)
		idleBefore := now.Add(-15 * time.Minute)

		expired := newSession(u.ID, "expired", t0) // expires t0+12h < now
		expired.LastActiveAt = now
		idle := newSession(u.ID, "idle", now.Add(-time.Hour))
		idle.LastActiveAt = idleBefore.Add(-time.Nanosecond)
		fresh := newSession(u.ID, "fresh", now.Add(-time.Hour))
		fresh.LastActiveAt = idleBefore // exactly at the bound: kept
		for _, s := range []*parley.Session{expired, idle, fresh} {
			must(t, db.CreateSession(ctx, s))
		}
		n, err := db.DeleteExpiredSessions(ctx, now, idleBefore)
		must(t, err)
		if n != 2 {
			t.Errorf("deleted %d, want 2", n)
		}
		left, _ := db.ListUserSessions(ctx, u.ID)
		if len(left) != 1 || left[0].ID != "fresh" {
			t.Errorf("left %+v, want only fresh", left)
		}
	})
}

func TestSettings(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		_, err := db.GetSetting(ctx, "setup_token")
		wantCode(t, err, parley.CodeNotFound)
		must(t, db.PutSetting(ctx, "setup_token", "h1"))
		must(t, db.PutSetting(ctx, "setup_token", "h2"))
		if v, err := db.GetSetting(ctx, "setup_token"); err != nil || v != "h2" {
			t.Fatalf("GetSetting = %q, %v", v, err)
		}

		// Concurrent takers: exactly one gets the value.
		const n = 10
		var wg sync.WaitGroup
		var mu sync.Mutex
		var got []string
		for range n {
			wg.Go(func() {
				v, err := db.TakeSetting(ctx, "setup_token")
				if err != nil {
					if parley.ErrorCode(err) != parley.CodeNotFound {
						t.Error(err)
					}
					return
				}
				mu.Lock()
				got = append(got, v)
				mu.Unlock()
			})
		}
		wg.Wait()
		if !slices.Equal(got, []string{"h2"}) {
			t.Errorf("takers got %v, want exactly one h2", got)
		}
		_, err = db.TakeSetting(ctx, "setup_token")
		wantCode(t, err, parley.CodeNotFound)
		_, err = db.GetSetting(ctx, "setup_token")
		wantCode(t, err, parley.CodeNotFound)
	})
}
