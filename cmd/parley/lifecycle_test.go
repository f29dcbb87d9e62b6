package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// TestE2EAdminLifecycle: "parley admin offboard / reactivate / account /
// end-date / service-token" against the real server as the system admin
// (after a step-up), users named by username or ID; a user is refused
// (exit 1, forbidden) and a bad command line is a usage error.
func TestE2EAdminLifecycle(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := e2eCtx(t)
	admin := s.SetupAdmin(ctx)
	alice := s.NewUser(ctx, admin, "alice")
	bob := s.NewUser(ctx, admin, "bob")
	botID, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "ci-bot", DisplayName: "CI", Kind: "service"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.CreateConversation(ctx, "group", []string{bob.UserID}, "team"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.StepUp(ctx, "totp", s.TOTPCode(admin.TOTPSecret), ""); err != nil {
		t.Fatal(err)
	}

	cli := newE2ECLI(t, s)
	cli.useSession(admin.Token())

	out := cli.mustRun(ctx, "", "admin", "offboard", "alice", "--successor", "bob", "--reason", "left")
	for _, want := range []string{"offboarded " + alice.UserID, "removed from 1 conversations", ": owner now " + bob.UserID} {
		if !strings.Contains(out, want) {
			t.Errorf("offboard output lacks %q:\n%s", want, out)
		}
	}
	var acc wire.Account
	if err := json.Unmarshal([]byte(cli.mustRun(ctx, "", "admin", "account", alice.UserID, "--json")), &acc); err != nil ||
		acc.Status != "disabled" || acc.DisabledReason != "left" {
		t.Fatalf("account --json: %v %+v", err, acc)
	}
	out = cli.mustRun(ctx, "Back-Again-Pass-42\n", "admin", "reactivate", alice.UserID, "--password-stdin")
	if !strings.Contains(out, "status") || !strings.Contains(out, "active") {
		t.Fatalf("reactivate output:\n%s", out)
	}
	out = cli.mustRun(ctx, "", "admin", "end-date", "bob", "2030-01-31")
	if !strings.Contains(out, "end date") || strings.Contains(out, "end date\t-") {
		t.Fatalf("end-date output:\n%s", out)
	}
	if acc, err := admin.Account(ctx, bob.UserID); err != nil || acc.EndDate == nil || !acc.EndDate.Equal(time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("bob's end date: %+v, %v", acc, err)
	}
	cli.mustRun(ctx, "", "admin", "end-date", "bob", "none")

	out = cli.mustRun(ctx, "", "admin", "service-token", "create", botID, "--name", "deploy", "--days", "7")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || len(lines[1]) != 43 {
		t.Fatalf("service-token create output:\n%s", out)
	}
	tokenID := strings.Fields(lines[0])[1]
	if out := cli.mustRun(ctx, "", "admin", "service-token", "list", "ci-bot"); !strings.Contains(out, tokenID) || !strings.Contains(out, "deploy") {
		t.Fatalf("service-token list:\n%s", out)
	}
	cli.mustRun(ctx, "", "admin", "service-token", "revoke", botID, tokenID)
	if list, _ := admin.ServiceTokens(ctx, botID); len(list) != 0 {
		t.Fatalf("token not revoked: %+v", list)
	}

	for _, args := range [][]string{
		{"admin", "offboard"},
		{"admin", "end-date", "bob", "next week"},
		{"admin", "service-token"},
		{"admin", "service-token", "mint", botID},
		{"admin", "service-token", "create", botID},
	} {
		if code, _, stderr := cli.run(ctx, "", args...); code != 1 || !strings.Contains(stderr, "usage:") {
			t.Errorf("%q: exit %d, stderr %q; want a usage error", args, code, stderr)
		}
	}
	if code, _, stderr := cli.run(ctx, "", "admin", "offboard", "nobody-by-that-name"); code != 1 || !strings.Contains(stderr, "no user named") {
		t.Errorf("unknown username: exit %d, stderr %q", code, stderr)
	}

	cli.useSession(bob.Token())
	if code, _, stderr := cli.run(ctx, "", "admin", "offboard", alice.UserID); code != 1 || !strings.Contains(stderr, "(forbidden)") {
		t.Errorf("as a user: exit %d, stderr %q; want forbidden", code, stderr)
	}
}

// TestParseEndDate: a date is the start of that day in UTC; RFC 3339 is
// taken as it is; "none" clears.
func TestParseEndDate(t *testing.T) {
	for in, want := range map[string]string{
		"2030-01-31":                "2030-01-31T00:00:00Z",
		"2030-01-31T12:30:00+02:00": "2030-01-31T12:30:00+02:00",
	} {
		got, err := parseEndDate(in)
		if err != nil || got == nil || got.Format(time.RFC3339) != want {
			t.Errorf("%q: %v, %v; want %s", in, got, err, want)
		}
	}
	if got, err := parseEndDate("none"); got != nil || err != nil {
		t.Errorf("none: %v, %v", got, err)
	}
	for _, bad := range []string{"", "31.01.2030", "2030-13-01", "tomorrow"} {
		if _, err := parseEndDate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
