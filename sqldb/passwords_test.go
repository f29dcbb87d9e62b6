package sqldb_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

// TestPasswordHistory: a change moves the current hash into the history,
// newest first, trimmed to keep; two changes in the same nanosecond keep
// their order (A3 "no reuse of the last 5").
func TestPasswordHistory(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "hist")
		h, err := db.PasswordHistory(ctx, u.ID, 10)
		must(t, err)
		if len(h) != 0 {
			t.Fatalf("new user has history %v", h)
		}
		for i := 1; i <= 6; i++ {
			must(t, db.ChangePassword(ctx, u.ID, fmt.Sprintf("h%d", i), t0, 4))
		}
		got, err := db.UserByID(ctx, u.ID)
		must(t, err)
		if got.PasswordHash != "h6" || !got.PasswordChangedAt.Equal(t0) {
			t.Fatalf("user = %q %v", got.PasswordHash, got.PasswordChangedAt)
		}
		h, err = db.PasswordHistory(ctx, u.ID, 10)
		must(t, err)
		if want := []string{"h5", "h4", "h3", "h2"}; !slices.Equal(h, want) {
			t.Fatalf("history = %v, want %v", h, want)
		}
		h, err = db.PasswordHistory(ctx, u.ID, 2)
		must(t, err)
		if !slices.Equal(h, []string{"h5", "h4"}) {
			t.Fatalf("limited history = %v", h)
		}
		wantCode(t, db.ChangePassword(ctx, parley.NewUserID(), "x", t0, 4), parley.CodeNotFound)
	})
}

// TestLoginLock: failures count per name case-insensitively, lock at the
// threshold with a pending notice, success resets, unlock keeps the
// notice, and a name without an account behaves the same (A3, A9).
func TestLoginLock(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		createUser(t, db, "bob")
		l, err := db.LoginLock(ctx, "bob")
		must(t, err)
		if *l != (parley.LoginLock{}) {
			t.Fatalf("fresh state = %+v", l)
		}
		for _, name := range []string{"Bob", "ghost"} {
			for i := 1; i <= 4; i++ {
				locked, err := db.RecordLoginFailure(ctx, name, t0, 5, 30*time.Minute)
				must(t, err)
				if locked {
					t.Fatalf("%s locked after %d", name, i)
				}
			}
			l, err := db.LoginLock(ctx, name)
			must(t, err)
			if l.Failures != 4 || !l.LastFailureAt.Equal(t0) || l.Locked(t0) {
				t.Fatalf("%s after 4: %+v", name, l)
			}
			locked, err := db.RecordLoginFailure(ctx, name, t0, 5, 30*time.Minute)
			must(t, err)
			if !locked {
				t.Fatalf("%s not locked after 5", name)
			}
			l, err = db.LoginLock(ctx, name)
			must(t, err)
			if l.Failures != 0 || !l.NoticePending || !l.LockedUntil.Equal(t0.Add(30*time.Minute)) ||
				!l.Locked(t0.Add(29*time.Minute)) || l.Locked(t0.Add(30*time.Minute)) {
				t.Fatalf("%s locked state = %+v", name, l)
			}
		}
		// Unlock lifts the lock but keeps the notice; a second unlock
		// finds nothing locked.
		was, err := db.UnlockLogin(ctx, "BOB", t0)
		must(t, err)
		if !was {
			t.Fatal("unlock: was not locked")
		}
		l, _ = db.LoginLock(ctx, "bob")
		if l.Locked(t0) || !l.NoticePending {
			t.Fatalf("after unlock: %+v", l)
		}
		if was, _ := db.UnlockLogin(ctx, "bob", t0); was {
			t.Fatal("second unlock reports a lock")
		}
		if was, _ := db.UnlockLogin(ctx, "nobody", t0); was {
			t.Fatal("unknown name reports a lock")
		}
		// A success clears the count; taking the notice clears it once.
		_, _ = db.RecordLoginFailure(ctx, "bob", t0, 5, 30*time.Minute)
		notice, err := db.ClearLoginFailures(ctx, "bob", false)
		must(t, err)
		l, _ = db.LoginLock(ctx, "bob")
		if notice || l.Failures != 0 || !l.NoticePending {
			t.Fatalf("clear without taking: notice=%v %+v", notice, l)
		}
		if notice, _ := db.ClearLoginFailures(ctx, "bob", true); !notice {
			t.Fatal("notice not taken")
		}
		if notice, _ := db.ClearLoginFailures(ctx, "bob", true); notice {
			t.Fatal("notice taken twice")
		}
		if notice, _ := db.ClearLoginFailures(ctx, "never-seen", true); notice {
			t.Fatal("notice for a name never seen")
		}
		// Pruning forgets old rows of names without an account only.
		n, err := db.PruneLoginFailures(ctx, t0.Add(time.Hour))
		must(t, err)
		if n != 1 {
			t.Fatalf("pruned %d rows, want 1 (ghost)", n)
		}
		if l, _ := db.LoginLock(ctx, "ghost"); *l != (parley.LoginLock{}) {
			t.Fatalf("ghost not pruned: %+v", l)
		}
		if l, _ := db.LoginLock(ctx, "bob"); !l.LastFailureAt.Equal(t0) {
			t.Fatalf("bob pruned: %+v", l)
		}
	})
}

// TestLoginLockConcurrent: many failures at once, as from several nodes,
// are all counted and lock exactly once per threshold.
func TestLoginLockConcurrent(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		var mu sync.Mutex
		locks := 0
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				locked, err := db.RecordLoginFailure(ctx, "carol", t0, 5, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if locked {
					mu.Lock()
					locks++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if locks != 4 {
			t.Fatalf("20 failures locked %d times, want 4", locks)
		}
	})
}
