package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// TestE2ERolesStepUpAccessReview: a security admin lists roles, grants and
// revokes through the CLI; once the step-up window has passed the grant is
// refused until "parley step-up" confirms a second factor; the access
// review comes out as text, JSON and CSV.
func TestE2ERolesStepUpAccessReview(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := e2eCtx(t)
	admin := s.SetupAdmin(ctx)
	bob := s.NewUser(ctx, admin, "bob")
	secID, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "sec", DisplayName: "Sec", Password: parleytest.Password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.GrantRole(ctx, secID, wire.GrantRoleRequest{Role: "security_admin", Reason: "hand-over"}); err != nil {
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

	if out := cli.mustRun(ctx, "", "roles", "list"); !strings.Contains(out, "security_admin\tSecurity administrator\t") {
		t.Fatalf("roles list: %q", out)
	}
	// The step-up window (5 minutes) passes; the grant is refused.
	s.Clock.Advance(6 * time.Minute)
	if code, _, stderr := cli.run(ctx, "", "roles", "grant", bob.UserID, "auditor"); code == 0 || !strings.Contains(stderr, "step_up_required") {
		t.Fatalf("grant without step-up: exit %d, %q", code, stderr)
	}
	before := cli.token()
	s.Clock.Advance(31 * time.Second) // a new TOTP step: codes are single-use
	cli.mustRun(ctx, s.TOTPCode(enr.Secret)+"\n", "step-up")
	if cli.token() == before {
		t.Fatal("step-up did not save the replacement session")
	}
	if out := cli.mustRun(ctx, "", "roles", "grant", bob.UserID, "auditor", "--reason", "Q4 audit"); !strings.Contains(out, "granted") {
		t.Fatalf("grant: %q", out)
	}
	if out := cli.mustRun(ctx, "", "roles", "grants", bob.UserID); !strings.Contains(out, "auditor\t*\tgranted ") {
		t.Fatalf("grants: %q", out)
	}
	if code, _, stderr := cli.run(ctx, "", "roles", "grant", bob.UserID, "system_admin"); code == 0 || !strings.Contains(stderr, "separation of duties") {
		t.Fatalf("second duty: exit %d, %q", code, stderr)
	}

	text := cli.mustRun(ctx, "", "access-review")
	if !strings.Contains(text, "bob ("+bob.UserID+") active") || !strings.Contains(text, "  auditor\t*") {
		t.Fatalf("access-review: %q", text)
	}
	var rep wire.AccessReview
	if err := json.Unmarshal([]byte(cli.mustRun(ctx, "", "access-review", "--json")), &rep); err != nil || len(rep.Users) < 3 {
		t.Fatalf("access-review --json: %+v %v", rep, err)
	}
	rows, err := csv.NewReader(strings.NewReader(cli.mustRun(ctx, "", "access-review", "--csv"))).ReadAll()
	if err != nil || len(rows) < 4 || rows[0][1] != "username" {
		t.Fatalf("access-review --csv: %v %v", rows, err)
	}

	if out := cli.mustRun(ctx, "", "roles", "revoke", bob.UserID, "auditor"); !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %q", out)
	}
	for _, args := range [][]string{{"roles"}, {"roles", "grant", bob.UserID}, {"roles", "fly"}, {"access-review", "--json", "--csv"}, {"step-up", "x"}} {
		if code, _, _ := cli.run(ctx, "", args...); code == 0 {
			t.Errorf("%v: exit 0", args)
		}
	}
}
