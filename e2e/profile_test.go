package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

func strPtr(s string) *string { return &s }

// inDepartment returns the usernames c finds in dept's subtree.
func inDepartment(ctx context.Context, t *testing.T, c *client.Client, dept, q string) []string {
	t.Helper()
	users, err := c.UsersInDepartment(ctx, dept, q)
	if err != nil {
		t.Fatalf("users in %s: %v", dept, err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	slices.Sort(names)
	return names
}

func expectInDepartment(ctx context.Context, t *testing.T, c *client.Client, who, dept, q string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := inDepartment(ctx, t, c, dept, q); !slices.Equal(got, want) {
		t.Fatalf("%s finds %v in %s (q=%q), want %v", who, got, dept, q, want)
	}
}

// entry returns u's directory entry as c sees it.
func entry(ctx context.Context, t *testing.T, c *client.Client, username string) wire.UserSummary {
	t.Helper()
	users, err := c.Users(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Username == username {
			return u
		}
	}
	t.Fatalf("%s not in the directory: %+v", username, users)
	return wire.UserSummary{}
}

// trailHas reports whether the trail holds a record of action on target
// with result whose reason contains every part of want.
func trailHas(recs []wire.AuditRecord, action, target, result string, want ...string) bool {
	for _, r := range recs {
		if r.Action != action || r.Target != target || r.Result != result {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(r.Reason, w)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestProfileMoveAndSearch: the system admin moves a user and gives them a
// title; the directory and /me show both at once; the department search
// takes sub-departments and the query, and isolation still decides whom
// it shows (M5, Z7); the move is audited with old and new values.
func TestProfileMoveAndSearch(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		o := newIsoOrg(ctx, t, s)
		o.set(ctx, t, wire.IsolationPolicy{Template: "strict"})

		// Before: walt (Web) sees Web and its parent Engineering, not
		// the sibling Ops where otto is.
		expectInDepartment(ctx, t, o.walt, "walt", o.eng, "", "erin", "walt")
		expectInDepartment(ctx, t, o.admin.Client, "admin", o.eng, "", "erin", "otto", "walt")

		got, err := o.admin.UpdateUser(ctx, o.ottoID, wire.UpdateUserRequest{DepartmentID: &o.web, Title: strPtr("Site Reliability Engineer")})
		if err != nil {
			t.Fatal(err)
		}
		if got.DepartmentID != o.web || got.Title != "Site Reliability Engineer" || got.Username != "otto" {
			t.Fatalf("answer: %+v", got)
		}
		// At once: otto is in Web now, so walt finds him.
		expectInDepartment(ctx, t, o.walt, "walt", o.eng, "", "erin", "otto", "walt")
		expectInDepartment(ctx, t, o.walt, "walt", o.web, "", "otto", "walt")
		expectInDepartment(ctx, t, o.walt, "walt", o.eng, "tt", "otto")
		expectInDepartment(ctx, t, o.admin.Client, "admin", o.ops, "")
		if e := entry(ctx, t, o.erin, "otto"); e.Title != "Site Reliability Engineer" || e.DepartmentID != o.web {
			t.Fatalf("otto in erin's directory: %+v", e)
		}
		if me, err := o.otto.Me(ctx); err != nil || me.Title != "Site Reliability Engineer" || me.DepartmentID != o.web {
			t.Fatalf("otto's /me: %+v, %v", me, err)
		}

		// Isolation still filters the department search: Sales sees
		// nobody in Engineering, and from the root only itself.
		expectInDepartment(ctx, t, o.sam, "sam", o.eng, "")
		expectInDepartment(ctx, t, o.sam, "sam", o.eng, "otto")
		rootDept := entry(ctx, t, o.admin.Client, "rita").DepartmentID
		expectInDepartment(ctx, t, o.sam, "sam", rootDept, "", "sam")
		// Moved into Sales, erin becomes visible to sam and leaves
		// Engineering's list.
		if _, err := o.admin.UpdateUser(ctx, o.erinID, wire.UpdateUserRequest{DepartmentID: &o.sales}); err != nil {
			t.Fatal(err)
		}
		expectInDepartment(ctx, t, o.sam, "sam", rootDept, "", "erin", "sam")
		expectInDepartment(ctx, t, o.walt, "walt", o.eng, "", "otto", "walt")

		for _, d := range []string{"d_nope", "d_" + strings.Repeat("x", 200)} {
			_, err := o.walt.UsersInDepartment(ctx, d, "")
			expectCode(t, err, "not_found")
		}
		if status, code, err := o.walt.Raw(ctx, "GET", "/api/v1/users?department_id=", nil, nil); err != nil || status != 404 || code != "not_found" {
			t.Fatalf("empty department_id: %d %s %v", status, code, err)
		}
		if status, code, err := o.walt.Raw(ctx, "GET", "/api/v1/users?department_id=%FF%FE", nil, nil); err != nil || status != 404 || code != "not_found" {
			t.Fatalf("department_id not UTF-8: %d %s %v", status, code, err)
		}

		recs, err := o.aud.Audit(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if !trailHas(recs, "user.update", o.ottoID, "success", "department "+o.ops+"→"+o.web, `title ""→"Site Reliability Engineer"`) {
			t.Error("no audit record of otto's move with old and new values")
		}
		if !trailHas(recs, "user.update", o.erinID, "success", "department "+o.eng+"→"+o.sales) {
			t.Error("no audit record of erin's move")
		}
	})
}

// TestProfileAdminRefusals: editing another user's entry is the system
// admin's, after a step-up (A6); a body naming roles, status, kind or
// is_admin is refused whole (no mass assignment) and nothing changes; an
// unknown user or department is not_found, one's own entry forbidden; a
// department admin keeps their grant on the department they leave.
func TestProfileAdminRefusals(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		o := newIsoOrg(ctx, t, s)
		admin := o.admin

		// Only users.manage: neither a user nor the security admin nor
		// the auditor.
		for who, c := range map[string]*client.Client{"erin": o.erin, "sec": o.sec, "aud": o.aud} {
			_, err := c.UpdateUser(ctx, o.waltID, wire.UpdateUserRequest{Title: strPtr("Boss")})
			if !client.IsCode(err, "forbidden") {
				t.Errorf("%s: %v, want forbidden", who, err)
			}
		}
		// A second factor within five minutes.
		s.Clock.Advance(6 * time.Minute)
		_, err := admin.UpdateUser(ctx, o.waltID, wire.UpdateUserRequest{Title: strPtr("Boss")})
		expectCode(t, err, "step_up_required")
		stepUp(ctx, t, s, admin)

		before, err := admin.Account(ctx, o.waltID)
		if err != nil {
			t.Fatal(err)
		}
		beforeEntry := entry(ctx, t, admin.Client, "walt")
		path := "/api/v1/users/" + o.waltID
		for _, body := range []map[string]any{
			{"title": "Boss", "roles": []string{"system_admin"}},
			{"display_name": "Walt", "is_admin": true},
			{"department_id": o.sales, "status": "active"},
			{"title": "Bot", "kind": "service"},
			{"username": "root"},
			{"title": "x", "Title": "y"},
		} {
			status, code, err := admin.Raw(ctx, "PATCH", path, body, nil)
			if err != nil || status != 400 || code != "invalid" {
				t.Errorf("%v: %d %s %v, want 400 invalid", body, status, code, err)
			}
		}
		for _, c := range []struct {
			req  wire.UpdateUserRequest
			code string
		}{
			{wire.UpdateUserRequest{}, "invalid"},
			{wire.UpdateUserRequest{Title: strPtr("Chief\u202eOfficer")}, "invalid"},
			{wire.UpdateUserRequest{DisplayName: strPtr("W\u0430lt")}, "invalid"}, // Cyrillic а
			{wire.UpdateUserRequest{DepartmentID: strPtr("d_nope")}, "not_found"},
		} {
			_, err := admin.UpdateUser(ctx, o.waltID, c.req)
			expectCode(t, err, c.code)
		}
		_, err = admin.UpdateUser(ctx, "u_nobody", wire.UpdateUserRequest{Title: strPtr("x")})
		expectCode(t, err, "not_found")
		_, err = admin.UpdateUser(ctx, admin.UserID, wire.UpdateUserRequest{Title: strPtr("Chief Everything")})
		expectCode(t, err, "forbidden")

		// A second read: nothing changed.
		after, err := admin.Account(ctx, o.waltID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(after.Roles, before.Roles) || after.Status != before.Status || after.Kind != before.Kind ||
			after.DisplayName != before.DisplayName || after.Username != before.Username {
			t.Fatalf("account changed: %+v → %+v", before, after)
		}
		if e := entry(ctx, t, admin.Client, "walt"); e != beforeEntry {
			t.Fatalf("directory entry changed: %+v → %+v", beforeEntry, e)
		}

		// A department admin who moves keeps administering the department
		// granted, and gains nothing in the new one: grants are about
		// departments, not people.
		if _, err := o.sec.StepUp(ctx, "totp", s.TOTPCode(o.secSecret), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := o.sec.GrantRole(ctx, o.ottoID, wire.GrantRoleRequest{Role: "department_admin", DepartmentID: o.ops, Reason: "team lead"}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.UpdateUser(ctx, o.ottoID, wire.UpdateUserRequest{DepartmentID: &o.sales}); err != nil {
			t.Fatal(err)
		}
		gs, err := o.sec.UserGrants(ctx, o.ottoID)
		if err != nil {
			t.Fatal(err)
		}
		var grants []string
		for _, g := range gs {
			grants = append(grants, g.Role+"@"+g.DepartmentID)
		}
		if !slices.Contains(grants, "department_admin@"+o.ops) || slices.Contains(grants, "department_admin@"+o.sales) {
			t.Fatalf("otto's grants after the move: %v", grants)
		}

		recs, err := o.aud.Audit(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ action, target, result, reason string }{
			{"user.update", o.ottoID, "success", "scoped grants kept: department_admin@" + o.ops},
			{"user.update", admin.UserID, "denied", "own directory entry"},
			{"user.update", o.waltID, "failure", "title contains"},
			{"user.update", o.waltID, "failure", "display_name contains"},
			{"api.denied", "PATCH /api/v1/users/{id}", "denied", ""},
		} {
			if !trailHas(recs, c.action, c.target, c.result, c.reason) {
				t.Errorf("no audit record %+v", c)
			}
		}
		for _, r := range recs {
			if r.Action == "user.update" && r.Target == o.waltID && r.Result == "success" {
				t.Errorf("a refused update was recorded as done: %+v", r)
			}
		}
	})
}

// TestProfileOwnDisplayName: a user changes their own display name under
// the rules of account creation (look-alike and bidi characters refused,
// I3); anything else in the body — roles, department, is_admin, title,
// username — is refused whole and nothing changes (no mass assignment).
func TestProfileOwnDisplayName(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		o := newIsoOrg(ctx, t, s)
		me, err := o.walt.UpdateMe(ctx, "Walter White")
		if err != nil || me.DisplayName != "Walter White" || me.Username != "walt" || me.DepartmentID != o.web {
			t.Fatalf("rename: %+v, %v", me, err)
		}
		if e := entry(ctx, t, o.erin, "walt"); e.DisplayName != "Walter White" {
			t.Fatalf("walt in erin's directory: %+v", e)
		}

		before, err := o.walt.Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []map[string]any{
			{"display_name": "Walt", "roles": []string{"system_admin"}},
			{"display_name": "Walt", "department_id": o.sales},
			{"display_name": "Walt", "is_admin": true},
			{"display_name": "Walt", "title": "CEO"},
			{"username": "admin"},
			{"display_name": "Walt", "display_name ": "x"},
			{},
		} {
			status, code, err := o.walt.Raw(ctx, "PATCH", "/api/v1/me", body, nil)
			if err != nil || status != 400 || code != "invalid" {
				t.Errorf("%v: %d %s %v, want 400 invalid", body, status, code, err)
			}
		}
		for _, bad := range []string{"P\u0430ypal Support", "ad\u200bmin", "Walt\u202egnp.exe", "  ", strings.Repeat("w", 129)} {
			_, err := o.walt.UpdateMe(ctx, bad)
			expectCode(t, err, "invalid")
		}
		after, err := o.walt.Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.DisplayName != before.DisplayName || after.DepartmentID != before.DepartmentID || after.Title != before.Title ||
			after.Username != before.Username || !slices.Equal(after.Roles, before.Roles) {
			t.Fatalf("/me changed: %+v → %+v", before, after)
		}

		recs, err := o.aud.Audit(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if !trailHas(recs, "user.update_self", o.waltID, "success", `display_name "User walt"→"Walter White"`) {
			t.Error("no audit record of the rename with old and new name")
		}
		if !trailHas(recs, "user.update_self", o.waltID, "failure", "display_name contains") {
			t.Error("the look-alike name was not audited")
		}
	})
}
