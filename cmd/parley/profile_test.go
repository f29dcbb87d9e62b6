package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// TestE2EAdminUserUpdate: "parley admin user-update" moves a user (department
// by name), sets and clears the title, renames; "parley users --department"
// lists the department with its sub-departments and shows titles; bad
// command lines are usage errors and a user is refused (M5).
func TestE2EAdminUserUpdate(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := e2eCtx(t)
	admin := s.SetupAdmin(ctx)
	alice := s.NewUser(ctx, admin, "alice")
	s.NewUser(ctx, admin, "bob")
	eng, err := admin.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Engineering"})
	if err != nil {
		t.Fatal(err)
	}
	web, err := admin.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Web", ParentID: eng.DepartmentID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.StepUp(ctx, "totp", s.TOTPCode(admin.TOTPSecret), ""); err != nil {
		t.Fatal(err)
	}
	cli := newE2ECLI(t, s)
	cli.useSession(admin.Token())

	out := cli.mustRun(ctx, "", "admin", "user-update", "alice", "--department", "web", "--title", "Front-end Lead")
	for _, want := range []string{alice.UserID, web.DepartmentID, "Front-end Lead"} {
		if !strings.Contains(out, want) {
			t.Errorf("user-update output lacks %q:\n%s", want, out)
		}
	}
	out = cli.mustRun(ctx, "", "users", "--department", "Engineering")
	if !strings.Contains(out, "TITLE") || !strings.Contains(out, "alice") || !strings.Contains(out, "Front-end Lead") || strings.Contains(out, "bob") {
		t.Errorf("users --department Engineering (Web is its sub-department):\n%s", out)
	}
	var list wire.UserList
	if err := json.Unmarshal([]byte(cli.mustRun(ctx, "", "users", "--json", "--department", eng.DepartmentID, "ali")), &list); err != nil ||
		len(list.Users) != 1 || list.Users[0].Title != "Front-end Lead" {
		t.Fatalf("users --json --department ID QUERY: %v %+v", err, list)
	}
	var u wire.UserSummary
	if err := json.Unmarshal([]byte(cli.mustRun(ctx, "", "admin", "user-update", alice.UserID, "--title", "", "--display-name", "Alice A.", "--json")), &u); err != nil ||
		u.Title != "" || u.DisplayName != "Alice A." || u.DepartmentID != web.DepartmentID {
		t.Fatalf("clearing the title: %v %+v", err, u)
	}

	for _, args := range [][]string{
		{"admin", "user-update"},
		{"admin", "user-update", "alice"},
		{"admin", "user-update", "alice", "bob", "--title", "x"},
		{"admin", "user-update", "alice", "--department", ""},
	} {
		if code, _, stderr := cli.run(ctx, "", args...); code != 1 || !strings.Contains(stderr, "usage:") {
			t.Errorf("%q: exit %d, stderr %q; want a usage error", args, code, stderr)
		}
	}
	if code, _, stderr := cli.run(ctx, "", "admin", "user-update", "alice", "--department", "Nowhere"); code != 1 || !strings.Contains(stderr, "no department named") {
		t.Errorf("unknown department name: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := cli.run(ctx, "", "users", "--department", "d_nope"); code != 1 || !strings.Contains(stderr, "(not_found)") {
		t.Errorf("unknown department ID: exit %d, stderr %q", code, stderr)
	}

	cli.useSession(alice.Token())
	if code, _, stderr := cli.run(ctx, "", "admin", "user-update", "bob", "--title", "Boss"); code != 1 || !strings.Contains(stderr, "(forbidden)") {
		t.Errorf("as a user: exit %d, stderr %q; want forbidden", code, stderr)
	}
}
