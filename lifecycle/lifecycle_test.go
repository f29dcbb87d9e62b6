package lifecycle_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/lifecycle"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// trail records audit records; fail makes it refuse (L5 tests).
type trail struct {
	mu   sync.Mutex
	recs []parley.AuditRecord
	fail bool
}

func (tr *trail) Record(_ context.Context, r parley.AuditRecord) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.fail {
		return errors.New("disk full")
	}
	tr.recs = append(tr.recs, r)
	return nil
}

// has reports a record of action with result whose target and reason
// contain the given strings.
func (tr *trail) has(action, result, target, reason string) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, r := range tr.recs {
		if r.Action == action && r.Result == result && strings.Contains(r.Target, target) && strings.Contains(r.Reason, reason) {
			return true
		}
	}
	return false
}

func (tr *trail) count(action string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, r := range tr.recs {
		if r.Action == action {
			n++
		}
	}
	return n
}

// env is a lifecycle service on a real SQLite store with recording
// dependencies and a settable clock.
type env struct {
	db    *sqldb.DB
	svc   *lifecycle.Service
	audit *trail
	now   time.Time

	mu      sync.Mutex
	ended   []parley.UserID         // EndUserSessions
	closed  []string                // EndSessions
	changed []parley.ConversationID // ConversationChanged

	admin *parley.Actor
}

func newEnv(t *testing.T) *env {
	e := &env{db: parleytest.NewSQLite(t), audit: &trail{}, now: t0}
	deps := lifecycle.Deps{
		EndUserSessions: func(_ context.Context, u parley.UserID) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.ended = append(e.ended, u)
			return nil
		},
		EndSessions: func(ids []string) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.closed = append(e.closed, ids...)
		},
		PasswordHash: func(_ context.Context, u *parley.User, pw string) (string, error) {
			if pw == "" && u.IsService() {
				return "hash:random", nil
			}
			if len(pw) < 12 {
				return "", parley.Errorf(parley.CodeInvalid, "password must be at least 12 characters")
			}
			return "hash:" + pw, nil
		},
		ConversationChanged: func(id parley.ConversationID) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.changed = append(e.changed, id)
		},
	}
	e.svc = lifecycle.New(e.db, e.audit, func() time.Time { return e.now }, slog.New(slog.DiscardHandler), deps)
	a := e.user(t, "admin", parley.AccountPerson, parley.RoleSystemAdmin)
	e.admin = &parley.Actor{UserID: a.ID, Username: a.Username, Roles: a.Roles, SourceIP: "192.0.2.9"}
	return e
}

// user creates an active account created at t0 with "user" and roles.
func (e *env) user(t *testing.T, name string, kind parley.AccountKind, roles ...parley.Role) *parley.User {
	t.Helper()
	u := &parley.User{ID: parley.NewUserID(), Username: name, DisplayName: "User " + name, Kind: kind,
		Roles: append([]parley.Role{parley.RoleUser}, roles...), Status: parley.UserActive,
		PasswordHash: "hash:old-" + name, PasswordChangedAt: t0, CreatedAt: t0}
	if err := e.db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) get(t *testing.T, id parley.UserID) *parley.User {
	t.Helper()
	u, err := e.db.UserByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantCode(t *testing.T, err error, code parley.Code) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("error %v (code %q), want %q", err, got, code)
	}
}

func actorOf(u *parley.User) *parley.Actor {
	return &parley.Actor{UserID: u.ID, Username: u.Username, Roles: u.Roles}
}

// TestOffboardRefusals: every refusal changes nothing; refusals of who may
// act are audited as denied (L1).
func TestOffboardRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	alice := e.user(t, "alice", parley.AccountPerson)
	gone := e.user(t, "gone", parley.AccountPerson)
	if err := e.db.DisableUser(ctx, gone.ID, t0, "", "left"); err != nil {
		t.Fatal(err)
	}
	sec := e.user(t, "sec", parley.AccountPerson, parley.RoleSecurityAdmin)
	for _, c := range []struct {
		name      string
		actor     *parley.Actor
		id        parley.UserID
		successor parley.UserID
		reason    string
		code      parley.Code
		audited   bool
	}{
		{"a user", actorOf(alice), gone.ID, "", "", parley.CodeForbidden, true},
		{"security admin (Z10)", actorOf(sec), alice.ID, "", "", parley.CodeForbidden, true},
		{"oneself", e.admin, e.admin.UserID, "", "", parley.CodeForbidden, true},
		{"unknown user", e.admin, "u_nobody", "", "", parley.CodeNotFound, false},
		{"already disabled", e.admin, gone.ID, "", "", parley.CodeConflict, true},
		{"unknown successor", e.admin, alice.ID, "u_nobody", "", parley.CodeNotFound, false},
		{"disabled successor", e.admin, alice.ID, gone.ID, "", parley.CodeNotFound, false},
		{"successor is the leaver", e.admin, alice.ID, alice.ID, "", parley.CodeInvalid, false},
		{"control characters in reason", e.admin, alice.ID, "", "left\x1b[2J", parley.CodeInvalid, false},
		{"reason too long", e.admin, alice.ID, "", strings.Repeat("x", 257), parley.CodeInvalid, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.audit.count("user.offboard")
			_, err := e.svc.Offboard(ctx, c.actor, c.id, c.successor, c.reason)
			wantCode(t, err, c.code)
			if got := e.audit.count("user.offboard") - before; (got == 1) != c.audited || got > 1 {
				t.Errorf("%d audit records, want audited=%v", got, c.audited)
			}
			if c.audited && !e.audit.has("user.offboard", parley.ResultDenied, string(c.id), "") {
				t.Error("refusal not audited as denied")
			}
			if u := e.get(t, alice.ID); u.Status != parley.UserActive {
				t.Fatal("a refused offboarding changed the account")
			}
			if len(e.ended) != 0 {
				t.Fatal("sessions ended by a refused offboarding")
			}
		})
	}
}

// TestOffboard: the account is disabled with who/when/why, every class of
// removal is audited, sessions and token connections are ended, the
// message path is told of each conversation, ownership moves to the
// successor.
func TestOffboard(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	leaver := e.user(t, "leaver", parley.AccountPerson, parley.RoleAuditor)
	bob := e.user(t, "bob", parley.AccountPerson)
	carol := e.user(t, "carol", parley.AccountPerson)
	g := &parley.Conversation{ID: parley.NewConversationID(), Type: parley.ConversationGroup, Title: "g",
		MemberIDs: []parley.UserID{leaver.ID, bob.ID, carol.ID}, CreatedBy: leaver.ID, CreatedAt: t0, KeyEpoch: 1}
	if err := e.db.CreateConversation(ctx, g, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateServiceToken(ctx, &parley.ServiceToken{ID: "st_x", UserID: leaver.ID, Name: "x", TokenHash: []byte("h"),
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, 10); err != nil {
		t.Fatal(err)
	}
	e.now = t0.Add(time.Hour)
	res, err := e.svc.Offboard(ctx, e.admin, leaver.ID, carol.ID, "contract ended")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Conversations) != 1 || res.Conversations[0].NewOwner != carol.ID || len(res.Roles) != 1 {
		t.Fatalf("result = %+v", res)
	}
	u := e.get(t, leaver.ID)
	if u.Status != parley.UserDisabled || u.DisabledBy != e.admin.UserID || u.DisabledReason != "contract ended" || !u.DisabledAt.Equal(e.now) {
		t.Fatalf("account = %+v", u)
	}
	if !slices.Equal(e.ended, []parley.UserID{leaver.ID}) || !slices.Equal(e.closed, []string{"st_x"}) ||
		!slices.Equal(e.changed, []parley.ConversationID{g.ID}) {
		t.Fatalf("ended %v, closed %v, changed %v", e.ended, e.closed, e.changed)
	}
	for _, w := range []struct{ action, target, reason string }{
		{"user.offboard", string(leaver.ID), "reason=contract ended"},
		{"user.offboard", string(leaver.ID), "successor=" + string(carol.ID)},
		{"user.offboard_sessions", string(leaver.ID), "service tokens revoked: 1"},
		{"user.offboard_roles", string(leaver.ID), "revoked: auditor; user kept"},
		{"user.offboard_credentials", string(leaver.ID), "passkeys=0"},
		{"user.offboard_conversations", string(leaver.ID), "removed from 1 conversations"},
		{"conversation.owner_transfer", string(g.ID), "→ " + string(carol.ID)},
	} {
		if !e.audit.has(w.action, parley.ResultSuccess, w.target, w.reason) {
			t.Errorf("no audit record %s %s %q", w.action, w.target, w.reason)
		}
	}
}

// TestOffboardFailsClosed: without an audit trail nothing happens (L5).
func TestOffboardFailsClosed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	alice := e.user(t, "alice", parley.AccountPerson)
	e.audit.fail = true
	_, err := e.svc.Offboard(ctx, e.admin, alice.ID, "", "")
	wantCode(t, err, parley.CodeUnavailable)
	if e.get(t, alice.ID).Status != parley.UserActive || len(e.ended) != 0 {
		t.Fatal("offboarded without an audit record")
	}
}

// TestReactivate: only a disabled account, never one's own; the password
// is checked (a refusal is audited as a failure and changes nothing); on
// success the account is active with the new hash, to be changed.
func TestReactivate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	alice := e.user(t, "alice", parley.AccountPerson)
	bot := e.user(t, "bot", parley.AccountService)
	for _, u := range []*parley.User{alice, bot} {
		if _, err := e.svc.Offboard(ctx, e.admin, u.ID, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	active := e.user(t, "active", parley.AccountPerson)
	for _, c := range []struct {
		name  string
		actor *parley.Actor
		id    parley.UserID
		pw    string
		code  parley.Code
	}{
		{"a user", actorOf(active), alice.ID, "Long-Enough-Pass-1", parley.CodeForbidden},
		{"oneself", e.admin, e.admin.UserID, "Long-Enough-Pass-1", parley.CodeForbidden},
		{"unknown", e.admin, "u_nobody", "Long-Enough-Pass-1", parley.CodeNotFound},
		{"active account", e.admin, active.ID, "Long-Enough-Pass-1", parley.CodeConflict},
		{"weak password", e.admin, alice.ID, "short", parley.CodeInvalid},
		{"no password for a person", e.admin, alice.ID, "", parley.CodeInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.svc.Reactivate(ctx, c.actor, c.id, c.pw, "")
			wantCode(t, err, c.code)
			if e.get(t, alice.ID).Status != parley.UserDisabled {
				t.Fatal("a refused reactivation changed the account")
			}
		})
	}
	if !e.audit.has("user.reactivate", parley.ResultFailure, string(alice.ID), "at least 12") {
		t.Error("refused password not audited")
	}
	e.now = t0.Add(24 * time.Hour)
	u, err := e.svc.Reactivate(ctx, e.admin, alice.ID, "Long-Enough-Pass-1", "rehired")
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != parley.UserActive || u.PasswordHash != "hash:Long-Enough-Pass-1" || !u.PasswordChangedAt.IsZero() ||
		!u.LastLoginAt.Equal(e.now) || !slices.Equal(u.Roles, []parley.Role{parley.RoleUser}) {
		t.Fatalf("reactivated = %+v", u)
	}
	if !e.audit.has("user.reactivate", parley.ResultSuccess, string(alice.ID), "reason=rehired") {
		t.Error("reactivation not audited")
	}
	if u, err := e.svc.Reactivate(ctx, e.admin, bot.ID, "", ""); err != nil || u.PasswordHash != "hash:random" {
		t.Fatalf("service account without a password: %v %+v", err, u)
	}
}

// TestEndDate: a date must lie ahead; clearing works; one's own is not
// one's to set; every change is audited old → new.
func TestEndDate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	alice := e.user(t, "alice", parley.AccountPerson)
	_, err := e.svc.SetEndDate(ctx, e.admin, alice.ID, t0)
	wantCode(t, err, parley.CodeInvalid)
	_, err = e.svc.SetEndDate(ctx, e.admin, e.admin.UserID, time.Time{})
	wantCode(t, err, parley.CodeForbidden)
	_, err = e.svc.SetEndDate(ctx, e.admin, "u_nobody", t0.Add(time.Hour))
	wantCode(t, err, parley.CodeNotFound)
	end := t0.Add(30 * 24 * time.Hour)
	u, err := e.svc.SetEndDate(ctx, e.admin, alice.ID, end)
	if err != nil || !u.EndAt.Equal(end) || !e.get(t, alice.ID).EndAt.Equal(end) {
		t.Fatalf("set: %v %+v", err, u)
	}
	if _, err := e.svc.SetEndDate(ctx, e.admin, alice.ID, time.Time{}); err != nil || !e.get(t, alice.ID).EndAt.IsZero() {
		t.Fatalf("clear: %v", err)
	}
	if !e.audit.has("user.end_date", parley.ResultSuccess, string(alice.ID), "none → 2026-12-27") ||
		!e.audit.has("user.end_date", parley.ResultSuccess, string(alice.ID), "2026-12-27T09:00:00Z → none") {
		t.Error("end date changes not audited")
	}
}

// TestServiceTokens: tokens only for active service accounts, with a name
// and a lifetime of at most 90 days; the secret is 256 bits and only its
// hash is stored; revoking closes the token's connections; another
// account's token is not_found.
func TestServiceTokens(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	bot := e.user(t, "bot", parley.AccountService)
	bot2 := e.user(t, "bot2", parley.AccountService)
	alice := e.user(t, "alice", parley.AccountPerson)
	for _, c := range []struct {
		name     string
		id       parley.UserID
		tokName  string
		lifetime time.Duration
		code     parley.Code
	}{
		{"person", alice.ID, "ci", 0, parley.CodeConflict},
		{"no name", bot.ID, " ", 0, parley.CodeInvalid},
		{"over 90 days", bot.ID, "ci", 91 * 24 * time.Hour, parley.CodeInvalid},
		{"unknown", "u_nobody", "ci", 0, parley.CodeNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := e.svc.CreateServiceToken(ctx, e.admin, c.id, c.tokName, c.lifetime)
			wantCode(t, err, c.code)
		})
	}
	st, secret, err := e.svc.CreateServiceToken(ctx, e.admin, bot.ID, "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 43 || !st.ExpiresAt.Equal(t0.Add(parley.MaxServiceTokenLifetime)) || !strings.HasPrefix(st.ID, "st_") {
		t.Fatalf("token %+v, secret of %d characters", st, len(secret))
	}
	stored, err := e.db.ServiceTokenByHash(ctx, st.TokenHash)
	if err != nil || stored.ID != st.ID || string(stored.TokenHash) == secret {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	if !e.audit.has("user.token_create", parley.ResultSuccess, string(bot.ID), "token="+st.ID) {
		t.Error("token creation not audited")
	}
	list, err := e.svc.ServiceTokens(ctx, e.admin, bot.ID)
	if err != nil || len(list) != 1 || list[0].ID != st.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	wantCode(t, e.svc.RevokeServiceToken(ctx, e.admin, bot2.ID, st.ID), parley.CodeNotFound)
	if err := e.svc.RevokeServiceToken(ctx, e.admin, bot.ID, st.ID); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.closed, []string{st.ID}) || !e.audit.has("user.token_revoke", parley.ResultSuccess, string(bot.ID), st.ID) {
		t.Fatalf("revoke: closed %v", e.closed)
	}
	for i := range lifecycle.MaxTokensPerAccount {
		if _, _, err := e.svc.CreateServiceToken(ctx, e.admin, bot.ID, "t", 24*time.Hour); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	_, _, err = e.svc.CreateServiceToken(ctx, e.admin, bot.ID, "one too many", 0)
	wantCode(t, err, parley.CodeConflict)
}

// TestCheckHolder: no administrator role for a service account (Z11).
func TestCheckHolder(t *testing.T) {
	e := newEnv(t)
	bot := e.user(t, "bot", parley.AccountService)
	alice := e.user(t, "alice", parley.AccountPerson)
	wantCode(t, e.svc.CheckHolder(context.Background(), bot, parley.RoleAuditor, true), parley.CodeForbidden)
	for _, err := range []error{
		e.svc.CheckHolder(context.Background(), bot, "custom:reader", false),
		e.svc.CheckHolder(context.Background(), alice, parley.RoleAuditor, true),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestSweep: accounts unused for 90 days are disabled (user.disabled_inactive)
// and accounts past their end date too (user.expired), their sessions
// ended; the only active system admin is spared and the trail says so
// once a day; expired tokens go; Tick sweeps at most hourly.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	idle := e.user(t, "idle", parley.AccountPerson)
	busy := e.user(t, "busy", parley.AccountPerson)
	dated := e.user(t, "dated", parley.AccountPerson)
	bot := e.user(t, "bot", parley.AccountService)
	if err := e.db.CreateServiceToken(ctx, &parley.ServiceToken{ID: "st_old", UserID: bot.ID, Name: "x", TokenHash: []byte("h"),
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, 10); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetUserEndDate(ctx, dated.ID, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}

	e.now = t0.Add(25 * time.Hour)
	if err := e.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if e.get(t, dated.ID).Status != parley.UserDisabled || e.get(t, idle.ID).Status != parley.UserActive {
		t.Fatal("day 1: only the dated account lapses")
	}
	if !e.audit.has("user.expired", parley.ResultSuccess, string(dated.ID), "automatic: end date 2026-11-28T09:00:00Z") {
		t.Error("expiry not audited")
	}
	if tok, _ := e.db.ListServiceTokens(ctx, bot.ID); len(tok) != 0 {
		t.Error("expired token kept")
	}

	if err := e.db.TouchLastLogin(ctx, busy.ID, t0.Add(80*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.now = t0.Add(90 * 24 * time.Hour)
	if err := e.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*parley.User{idle, bot} {
		got := e.get(t, u.ID)
		if got.Status != parley.UserDisabled || got.DisabledBy != "" || !strings.Contains(got.DisabledReason, "unused since") {
			t.Errorf("%s = %+v", u.Username, got)
		}
		if !e.audit.has("user.disabled_inactive", parley.ResultSuccess, string(u.ID), "unused since 2026-11-27") {
			t.Errorf("%s: inactivity not audited", u.Username)
		}
	}
	if e.get(t, busy.ID).Status != parley.UserActive {
		t.Error("an account used 10 days ago was disabled")
	}
	admin := e.get(t, e.admin.UserID)
	if admin.Status != parley.UserActive || !e.audit.has("user.disabled_inactive", parley.ResultDenied, string(admin.ID), "only active system admin") {
		t.Fatalf("the last system admin: %+v", admin)
	}
	if !slices.Contains(e.ended, idle.ID) || !slices.Contains(e.ended, dated.ID) {
		t.Errorf("sessions ended for %v", e.ended)
	}

	// Within the hour Tick does nothing; a forced Sweep does not repeat the
	// spared notice within the day.
	denied := e.audit.count("user.disabled_inactive")
	e.now = e.now.Add(30 * time.Minute)
	if err := e.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.audit.count("user.disabled_inactive"); got != denied {
		t.Fatalf("%d more records within the day", got-denied)
	}
	// With a second system admin, the first is no longer spared.
	admin2 := e.user(t, "admin2", parley.AccountPerson, parley.RoleSystemAdmin)
	e.now = e.now.Add(2 * time.Hour)
	if err := e.db.TouchLastLogin(ctx, admin2.ID, e.now); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if e.get(t, admin.ID).Status != parley.UserDisabled {
		t.Fatal("an unused system admin with a colleague was kept")
	}
}
