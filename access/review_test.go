package access_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/access"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/parleytest"
)

// sessions stands in for auth.Service: the catalog of built-in roles and a
// record of whose sessions were ended.
type sessions struct{ ended []parley.UserID }

func (s *sessions) Catalog(context.Context) (*authz.Catalog, error) {
	return authz.NewCatalog(nil), nil
}
func (s *sessions) InvalidateCatalog() {}
func (s *sessions) EndUserSessions(_ context.Context, u parley.UserID) error {
	s.ended = append(s.ended, u)
	return nil
}
func (s *sessions) GrantContext(context.Context) (authz.GrantContext, error) {
	return authz.GrantContext{SecurityAdminExists: true}, nil
}

// TestReviewFlags: a grant beyond "user" unused for 90 days is flagged, a
// used one is not, and a disabled account that still holds more than
// "user" is flagged as a leaver with access (Z8). Last use is written at
// most once an hour per grant.
func TestReviewFlags(t *testing.T) {
	ctx := context.Background()
	db := parleytest.NewSQLite(t)
	clock := parleytest.NewClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	log := slog.New(slog.DiscardHandler)
	svc := access.New(db, audit.NewRecorder(db, clock.Now, log), &sessions{}, clock.Now, log)

	start := clock.Now()
	mk := func(name string, status parley.UserStatus, roles ...parley.Role) *parley.User {
		u := &parley.User{ID: parley.NewUserID(), Username: name, DisplayName: name, Status: status,
			PasswordHash: "x", PasswordChangedAt: start, CreatedAt: start, Roles: append([]parley.Role{parley.RoleUser}, roles...)}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	idle := mk("idle", parley.UserActive, parley.RoleSystemAdmin)
	busy := mk("busy", parley.UserActive, parley.RoleSystemAdmin)
	plain := mk("plain", parley.UserActive)
	leaver := mk("leaver", parley.UserDisabled, parley.RoleAuditor)
	reviewer := &parley.Actor{UserID: "u_rev", Username: "rev", Roles: []parley.Role{parley.RoleSecurityAdmin}}

	clock.Advance(91 * 24 * time.Hour)
	busyActor := &parley.Actor{UserID: busy.ID, Roles: busy.Roles}
	svc.NoteUse(ctx, busyActor, string(authz.PermUsersCreate))
	// A user-level permission is not tracked.
	svc.NoteUse(ctx, &parley.Actor{UserID: idle.ID, Roles: idle.Roles}, string(authz.PermMessagesSend))

	rep, err := svc.AccessReview(ctx, reviewer)
	if err != nil {
		t.Fatal(err)
	}
	flags := map[parley.UserID][]string{}
	for _, e := range rep.Entries {
		flags[e.User.ID] = e.Flags
	}
	if !slices.Contains(flags[idle.ID], "unused_90d:system_admin") {
		t.Errorf("idle flags = %v", flags[idle.ID])
	}
	if len(flags[busy.ID]) != 0 || len(flags[plain.ID]) != 0 {
		t.Errorf("busy %v plain %v, want no flags", flags[busy.ID], flags[plain.ID])
	}
	if !slices.Contains(flags[leaver.ID], "leaver_with_access") {
		t.Errorf("leaver flags = %v", flags[leaver.ID])
	}

	// Throttled: a second use within the hour writes nothing new.
	lastUse := func() time.Time {
		u, err := db.UserByID(ctx, busy.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range u.Grants {
			if g.Role == parley.RoleSystemAdmin {
				return g.LastUsedAt
			}
		}
		t.Fatal("busy lost system_admin")
		return time.Time{}
	}
	first := lastUse()
	if !first.Equal(clock.Now()) {
		t.Fatalf("first use recorded as %v, want %v", first, clock.Now())
	}
	clock.Advance(10 * time.Minute)
	svc.NoteUse(ctx, busyActor, string(authz.PermUsersCreate))
	if got := lastUse(); !got.Equal(first) {
		t.Errorf("last use rewritten within the hour: %v -> %v", first, got)
	}
	// After the hour it is written again.
	clock.Advance(time.Hour)
	svc.NoteUse(ctx, busyActor, string(authz.PermUsersCreate))
	if got := lastUse(); !got.Equal(clock.Now()) {
		t.Errorf("last use after an hour = %v, want %v", got, clock.Now())
	}

	// Only reviewers read the report.
	if _, err := svc.AccessReview(ctx, &parley.Actor{UserID: plain.ID, Roles: plain.Roles}); parley.ErrorCode(err) != parley.CodeForbidden {
		t.Fatalf("plain user reads the review: %v", err)
	}
}
