package directory_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/directory"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

func str(s string) *string { return &s }

func deptPtr(d parley.DepartmentID) *parley.DepartmentID { return &d }

func wantCode(t *testing.T, err error, code parley.Code) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("error %v (code %q), want code %q", err, got, code)
	}
}

// last returns the newest audit record of action, failing if there is none.
func (tr *trail) last(t *testing.T, action string) parley.AuditRecord {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for i := len(tr.recs) - 1; i >= 0; i-- {
		if tr.recs[i].Action == action {
			return tr.recs[i]
		}
	}
	t.Fatalf("no %s audit record in %+v", action, tr.recs)
	return parley.AuditRecord{}
}

func (tr *trail) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.recs)
}

// TestUpdateUser: the system admin moves, renames and titles another
// account, audited with old and new values; grants stay with their
// departments; refusals (permission, own account, unknown user or
// department, bad text, empty change, no audit trail) change nothing.
func TestUpdateUser(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newIsoFixture(t, db)
		tr := &trail{}
		svc := directory.New(db, tr, f.clock.Now)
		u := f.user(t, "dana", f.a)
		// dana administers department a: the grant is about a, not dana.
		grant := &parley.RoleGrant{UserID: u.ID, Role: parley.RoleDepartmentAdmin, Scope: f.a, GrantedAt: f.clock.Now()}
		allow := func(map[parley.UserID][]parley.RoleGrant, []*parley.CustomRole) error { return nil }
		if err := db.GrantRoleChecked(ctx, grant, allow, nil); err != nil {
			t.Fatal(err)
		}
		read := func() *parley.User {
			t.Helper()
			got, err := db.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}

		got, err := svc.UpdateUser(ctx, sysAdmin, u.ID, parley.UserUpdate{DepartmentID: deptPtr(f.b), Title: str("  Payroll Lead "), DisplayName: str("Dana Q.")})
		if err != nil {
			t.Fatal(err)
		}
		if got.DepartmentID != f.b || got.Title != "Payroll Lead" || got.DisplayName != "Dana Q." {
			t.Fatalf("after the update: %+v", got)
		}
		rec := tr.last(t, "user.update")
		for _, want := range []string{`display_name "dana"→"Dana Q."`, "department " + string(f.a) + "→" + string(f.b),
			`title ""→"Payroll Lead"`, "scoped grants kept: department_admin@" + string(f.a)} {
			if !strings.Contains(rec.Reason, want) {
				t.Errorf("audit reason %q lacks %q", rec.Reason, want)
			}
		}
		if rec.Target != string(u.ID) || rec.ActorID != sysAdmin.UserID || rec.Result != parley.ResultSuccess {
			t.Errorf("audit record %+v", rec)
		}
		if g := read().Grants; len(g) != 2 || g[0].Role != parley.RoleDepartmentAdmin || g[0].Scope != f.a || g[1].Role != parley.RoleUser {
			t.Errorf("grants after the move: %+v (a move changes no grant)", g)
		}

		// The same values again: nothing to write, nothing recorded.
		n := tr.count()
		if _, err := svc.UpdateUser(ctx, sysAdmin, u.ID, parley.UserUpdate{Title: str("Payroll Lead")}); err != nil || tr.count() != n {
			t.Fatalf("no-op update: %v, %d new records", err, tr.count()-n)
		}

		before := read()
		self := &parley.Actor{UserID: u.ID, Username: "dana", DepartmentID: f.b,
			Roles: []parley.Role{parley.RoleUser, parley.RoleSystemAdmin}}
		for _, tc := range []struct {
			name   string
			actor  *parley.Actor
			id     parley.UserID
			upd    parley.UserUpdate
			code   parley.Code
			result string // audit result of the refusal; "" for none
		}{
			{"no permission", secAdmin, u.ID, parley.UserUpdate{Title: str("x")}, parley.CodeForbidden, ""},
			{"own account", self, u.ID, parley.UserUpdate{Title: str("Chief Everything")}, parley.CodeForbidden, parley.ResultDenied},
			{"unknown user", sysAdmin, parley.NewUserID(), parley.UserUpdate{Title: str("x")}, parley.CodeNotFound, ""},
			{"unknown department", sysAdmin, u.ID, parley.UserUpdate{DepartmentID: deptPtr(parley.NewDepartmentID()), Title: str("x")}, parley.CodeNotFound, ""},
			{"not an ID", sysAdmin, u.ID, parley.UserUpdate{DepartmentID: deptPtr("d_\xff")}, parley.CodeNotFound, ""},
			{"no department", sysAdmin, u.ID, parley.UserUpdate{DepartmentID: deptPtr("")}, parley.CodeInvalid, parley.ResultFailure},
			{"nothing", sysAdmin, u.ID, parley.UserUpdate{}, parley.CodeInvalid, parley.ResultFailure},
			{"bidi title", sysAdmin, u.ID, parley.UserUpdate{Title: str("CEO\u202e")}, parley.CodeInvalid, parley.ResultFailure},
			{"look-alike name", sysAdmin, u.ID, parley.UserUpdate{DisplayName: str("P\u0430ypal")}, parley.CodeInvalid, parley.ResultFailure},
			{"blank name", sysAdmin, u.ID, parley.UserUpdate{DisplayName: str("   ")}, parley.CodeInvalid, parley.ResultFailure},
			{"long title", sysAdmin, u.ID, parley.UserUpdate{Title: str(strings.Repeat("t", 129))}, parley.CodeInvalid, parley.ResultFailure},
		} {
			t.Run(tc.name, func(t *testing.T) {
				n := tr.count()
				_, err := svc.UpdateUser(ctx, tc.actor, tc.id, tc.upd)
				wantCode(t, err, tc.code)
				if tc.result == "" {
					if tr.count() != n {
						t.Errorf("%d audit records written", tr.count()-n)
					}
				} else if rec := tr.last(t, "user.update"); tr.count() != n+1 || rec.Result != tc.result {
					t.Errorf("refusal audited as %+v", rec)
				}
			})
		}
		if after := read(); after.Title != before.Title || after.DepartmentID != before.DepartmentID || after.DisplayName != before.DisplayName {
			t.Fatalf("a refused update changed the user: %+v → %+v", before, after)
		}

		// No audit trail, no change (L5).
		tr.broken = true
		_, err = svc.UpdateUser(ctx, sysAdmin, u.ID, parley.UserUpdate{DepartmentID: deptPtr(f.a)})
		wantCode(t, err, parley.CodeUnavailable)
		tr.broken = false
		if read().DepartmentID != f.b {
			t.Fatal("moved without an audit record")
		}

		// A disabled account is edited like any other (HR corrections).
		if err := db.DisableUser(ctx, u.ID, f.clock.Now(), sysAdmin.UserID, "left"); err != nil {
			t.Fatal(err)
		}
		if got, err := svc.UpdateUser(ctx, sysAdmin, u.ID, parley.UserUpdate{DisplayName: str("Dana Quinn")}); err != nil ||
			got.DisplayName != "Dana Quinn" || got.Status != parley.UserDisabled {
			t.Fatalf("editing a disabled account: %+v, %v", got, err)
		}
	})
}

// TestUpdateMe: a user changes their own display name under the rules of
// account creation; look-alike, bidi, blank and overlong names are refused
// and audited, and change nothing.
func TestUpdateMe(t *testing.T) {
	ctx := context.Background()
	db := parleytest.NewSQLite(t)
	f := newIsoFixture(t, db)
	tr := &trail{}
	svc := directory.New(db, tr, f.clock.Now)
	u := f.user(t, "ann", f.a)
	me := &parley.Actor{UserID: u.ID, Username: u.Username, DepartmentID: f.a, Roles: []parley.Role{parley.RoleUser}}

	got, err := svc.UpdateMe(ctx, me, " Ann Lee ")
	if err != nil || got.DisplayName != "Ann Lee" {
		t.Fatalf("rename: %+v, %v", got, err)
	}
	if rec := tr.last(t, "user.update_self"); rec.Reason != `display_name "ann"→"Ann Lee"` || rec.Target != string(u.ID) || rec.Result != parley.ResultSuccess {
		t.Fatalf("audit record %+v", rec)
	}
	for _, bad := range []string{"", "  ", "P\u0430ypal", "ad\u200bmin", "evil\u202egnp.exe", "tab\there", strings.Repeat("n", 129)} {
		n := tr.count()
		_, err := svc.UpdateMe(ctx, me, bad)
		wantCode(t, err, parley.CodeInvalid)
		if rec := tr.last(t, "user.update_self"); tr.count() != n+1 || rec.Result != parley.ResultFailure {
			t.Errorf("%q: refusal audited as %+v", bad, rec)
		}
	}
	if got, _ := db.UserByID(ctx, u.ID); got.DisplayName != "Ann Lee" {
		t.Fatalf("a refused name was stored: %q", got.DisplayName)
	}
	// Scripts other than Latin are names like any other.
	if got, err := svc.UpdateMe(ctx, me, "张伟"); err != nil || got.DisplayName != "张伟" {
		t.Fatalf("rename to 张伟: %+v, %v", got, err)
	}
}

// TestUsersInDepartment: the department filter takes sub-departments,
// combines with the query, still answers only what isolation lets the
// caller see (Z7), and reads a move at once on this node.
func TestUsersInDepartment(t *testing.T) {
	ctx := context.Background()
	db := parleytest.NewSQLite(t)
	f := newIsoFixture(t, db)
	svc := directory.New(db, &trail{}, f.clock.Now)
	sub, err := svc.CreateDepartment(ctx, sysAdmin, "Sub", f.a)
	if err != nil {
		t.Fatal(err)
	}
	me := f.user(t, "me", f.a)
	subU := f.user(t, "subby", sub.ID)
	f.user(t, "bea", f.b)
	actor := &parley.Actor{UserID: me.ID, Username: me.Username, DepartmentID: f.a, Roles: []parley.Role{parley.RoleUser}}
	names := func(a *parley.Actor, d parley.DepartmentID, q string) string {
		t.Helper()
		us, err := svc.UsersInDepartment(ctx, a, d, q, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range us {
			out = append(out, u.Username)
		}
		return strings.Join(out, ",")
	}
	if got := names(actor, f.a, ""); got != "me,subby" {
		t.Errorf("department a: %s", got)
	}
	if got := names(actor, f.root, "b"); got != "bea,subby" {
		t.Errorf("root, q=b, open policy: %s", got)
	}
	if err := svc.SetIsolationPolicy(ctx, secAdmin, &parley.IsolationPolicy{Template: parley.IsolationStrict}); err != nil {
		t.Fatal(err)
	}
	if got := names(actor, f.root, ""); got != "me,subby" {
		t.Errorf("root under strict isolation: %s (b is hidden)", got)
	}
	if got := names(actor, f.b, ""); got != "" {
		t.Errorf("department b under strict isolation: %s", got)
	}
	if got := names(sysAdmin, f.b, ""); got != "bea" {
		t.Errorf("the system admin's view of b: %s", got)
	}
	// Moved into b, subby drops out of the caller's view at once.
	if _, err := svc.UpdateUser(ctx, sysAdmin, subU.ID, parley.UserUpdate{DepartmentID: deptPtr(f.b)}); err != nil {
		t.Fatal(err)
	}
	if got := names(actor, f.root, ""); got != "me" {
		t.Errorf("after the move: %s", got)
	}
	if got := names(sysAdmin, f.b, ""); got != "bea,subby" {
		t.Errorf("b after the move: %s", got)
	}

	for _, d := range []parley.DepartmentID{parley.NewDepartmentID(), "", "d_\xff", parley.DepartmentID(strings.Repeat("d", 200))} {
		_, err := svc.UsersInDepartment(ctx, actor, d, "", 0)
		wantCode(t, err, parley.CodeNotFound)
	}
	_, err = svc.UsersInDepartment(ctx, actor, f.a, strings.Repeat("q", 65), 0)
	wantCode(t, err, parley.CodeInvalid)
	_, err = svc.UsersInDepartment(ctx, &parley.Actor{UserID: "u_x"}, f.a, "", 0)
	wantCode(t, err, parley.CodeForbidden)
}
