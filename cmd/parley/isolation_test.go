package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// TestE2EAdminIsolation: "parley admin isolation" reads and sets the
// department isolation policy as a security admin; the system admin is
// refused (Z10) and a bad rule is a usage error.
func TestE2EAdminIsolation(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := e2eCtx(t)
	admin := s.SetupAdmin(ctx)
	eng, err := admin.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Engineering"})
	if err != nil {
		t.Fatal(err)
	}
	sales, err := admin.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Sales"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "sec", DisplayName: "Sec", Password: parleytest.Password,
		Roles: []string{"security_admin"}}); err != nil {
		t.Fatal(err)
	}
	sec := s.Login(ctx, "sec")
	enr, err := sec.EnrollTOTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sec.ConfirmTOTP(ctx, s.TOTPCode(enr.Secret)); err != nil {
		t.Fatal(err)
	}

	cli := newE2ECLI(t, s)
	cli.useSession(sec.Token())
	if out := cli.mustRun(ctx, "", "admin", "isolation"); out != "template\topen\n" {
		t.Fatalf("get: %q", out)
	}
	out := cli.mustRun(ctx, "", "admin", "isolation", "set", "--template", "strict", "--allow", eng.DepartmentID+","+sales.DepartmentID)
	if want := "template\tstrict\nallow\t" + eng.DepartmentID + "\t" + sales.DepartmentID + "\n"; out != want {
		t.Fatalf("set: %q, want %q", out, want)
	}
	var p wire.IsolationPolicy
	if err := json.Unmarshal([]byte(cli.mustRun(ctx, "", "admin", "isolation", "--json")), &p); err != nil ||
		p.Template != "strict" || len(p.Allow) != 1 || p.Allow[0].A != eng.DepartmentID {
		t.Fatalf("get --json: %+v, %v", p, err)
	}
	for _, args := range [][]string{
		{"admin", "isolation", "set"},
		{"admin", "isolation", "set", "--template", "strict", "--allow", "only-one"},
		{"admin", "isolation", "extra"},
	} {
		if code, _, stderr := cli.run(ctx, "", args...); code == 0 || !strings.Contains(stderr, "usage") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	code, _, stderr := cli.run(ctx, "", "admin", "isolation", "set", "--template", "lax")
	if code != 1 || !strings.Contains(stderr, "(invalid)") {
		t.Errorf("unknown template: exit %d, stderr %q", code, stderr)
	}

	cli.useSession(admin.Token())
	code, _, stderr = cli.run(ctx, "", "admin", "isolation", "set", "--template", "open")
	if code != 1 || !strings.Contains(stderr, "(forbidden)") {
		t.Errorf("as the system admin: exit %d, stderr %q", code, stderr)
	}
}
