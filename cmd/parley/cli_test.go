package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/wire"
)

func TestLoginWhoamiLogout(t *testing.T) {
	f := newFakeServer(t)
	c := newCLI(t)

	// Without --ca the self-signed server is refused.
	code, _, stderr := c.run("s3cret-pw\n", "login", "--server", f.srv.URL, "--user", "ann", "--password-stdin")
	if code != 1 || !strings.Contains(stderr, "certificate") {
		t.Fatalf("unpinned login: %d %q", code, stderr)
	}

	code, stdout, stderr := c.run("s3cret-pw\n", "login", "--server", f.srv.URL, "--ca", f.ca, "--user", "ann", "--password-stdin")
	if code != 0 {
		t.Fatalf("login: %d %q", code, stderr)
	}
	cfg := c.loadConfig()
	if cfg.Server != f.srv.URL || cfg.CAFile != f.ca || !strings.HasPrefix(cfg.Token, "tok-1") {
		t.Fatalf("saved config %+v", cfg)
	}
	if st, _ := os.Stat(c.config); st.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v", st.Mode().Perm())
	}
	for _, secret := range []string{cfg.Token, "s3cret-pw"} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("output shows a secret: %q %q", stdout, stderr)
		}
	}
	if !strings.Contains(stdout, "as ann (Ann \uFFFD[31mRed)") {
		t.Errorf("login output %q (display name must be cleaned)", stdout)
	}

	code, stdout, _ = c.run("", "whoami", "--json")
	var me wire.Me
	if code != 0 || json.Unmarshal([]byte(stdout), &me) != nil || me.Username != "ann" {
		t.Fatalf("whoami --json: %d %q", code, stdout)
	}

	// A second login (here through MFA with a recovery code; server and CA
	// are remembered) retires the first session.
	first := cfg.Token
	code, _, stderr = c.run("s3cret-pw\nr:RC-1\n", "login", "--user", "mfa", "--password-stdin")
	if code != 0 {
		t.Fatalf("MFA login: %d %q", code, stderr)
	}
	if cfg = c.loadConfig(); cfg.Token == first || cfg.CAFile != f.ca {
		t.Fatalf("after MFA login: %+v", cfg)
	}
	if len(f.logouts) != 1 || f.logouts[0] != first {
		t.Errorf("old session not retired: %v", f.logouts)
	}

	code, _, stderr = c.run("s3cret-pw\n999999\n", "login", "--user", "mfa", "--password-stdin")
	if code != 1 || stderr != "parley: wrong code (unauthenticated)\n" {
		t.Errorf("bad MFA code: %d %q", code, stderr)
	}
	code, _, stderr = c.run("nope\n", "login", "--user", "ann", "--password-stdin")
	if code != 1 || stderr != "parley: wrong user name or password (unauthenticated)\n" {
		t.Errorf("bad password: %d %q", code, stderr)
	}
	if c.loadConfig().Token != cfg.Token {
		t.Error("failed login changed the saved session")
	}

	if code, stdout, _ = c.run("", "logout"); code != 0 || !strings.Contains(stdout, "Logged out") {
		t.Fatalf("logout: %d %q", code, stdout)
	}
	if got := c.loadConfig(); got.Token != "" || got.Server != f.srv.URL {
		t.Errorf("after logout: %+v", got)
	}
	if code, _, stderr = c.run("", "whoami"); code != 1 || !strings.Contains(stderr, "not logged in") {
		t.Errorf("whoami after logout: %d %q", code, stderr)
	}
}

func TestExpiredSessionHint(t *testing.T) {
	f := newFakeServer(t)
	c := newCLI(t)
	if err := saveConfig(c.config, &config{Server: f.srv.URL, CAFile: f.ca, Token: "revoked"}, false); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := c.run("", "conversations")
	want := "parley: session expired (unauthenticated)\nparley: run 'parley login' to sign in again\n"
	if code != 1 || stderr != want {
		t.Errorf("got %d %q, want %q", code, stderr, want)
	}
	// Logging out a dead session just forgets it.
	if code, _, stderr = c.run("", "logout"); code != 0 || c.loadConfig().Token != "" {
		t.Errorf("logout of a dead session: %d %q", code, stderr)
	}
}

func loggedIn(t *testing.T) (*fakeServer, *cli) {
	f := newFakeServer(t)
	c := newCLI(t)
	if code, _, stderr := c.run("s3cret-pw\n", "login", "--server", f.srv.URL, "--ca", f.ca, "--user", "ann", "--password-stdin"); code != 0 {
		t.Fatalf("login: %q", stderr)
	}
	return f, c
}

func TestSendHistoryConversations(t *testing.T) {
	f, c := loggedIn(t)

	code, stdout, stderr := c.run("", "send", "c1", "hello", "-world")
	if code != 0 || stdout != "Sent #5 (m5).\n" {
		t.Fatalf("send: %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = c.run("line one\n\x1b[2Jline two\n", "send", "--json", "c1", "-")
	var sr wire.SendResponse
	if code != 0 || json.Unmarshal([]byte(stdout), &sr) != nil || sr.Seq != 6 {
		t.Fatalf("send -: %d %q", code, stdout)
	}
	if got := f.msgs[5].Body; got != "line one\n\x1b[2Jline two" {
		t.Errorf("stored body %q", got)
	}

	code, stdout, _ = c.run("", "history", "c1", "--after", "4")
	want := "#5 " + fmtTime(f.msgs[4].SentAt) + " ann: hello -world\n" +
		"#6 " + fmtTime(f.msgs[5].SentAt) + " ann: line one\n    \uFFFD[2Jline two\n"
	if code != 0 || stdout != want {
		t.Errorf("history:\n%q\nwant\n%q", stdout, want)
	}
	code, stdout, _ = c.run("", "history", "--json", "c1", "--limit", "2")
	var ml wire.MessageList
	if code != 0 || json.Unmarshal([]byte(stdout), &ml) != nil || len(ml.Messages) != 2 || ml.Messages[0].Seq != 1 {
		t.Errorf("history --json: %d %q", code, stdout)
	}
	code, _, stderr = c.run("", "history", "nope")
	if code != 1 || stderr != "parley: no such conversation (not_found)\n" {
		t.Errorf("history of an unknown conversation: %d %q", code, stderr)
	}

	code, stdout, _ = c.run("", "conversations")
	if code != 0 || !strings.Contains(stdout, "c1") || !strings.Contains(stdout, "Ops") || !strings.Contains(stdout, "LAST SEQ") {
		t.Errorf("conversations: %q", stdout)
	}
	code, stdout, _ = c.run("", "conversations", "--json")
	var cl wire.ConversationList
	if code != 0 || json.Unmarshal([]byte(stdout), &cl) != nil || cl.Conversations[0].LastSeq != 6 {
		t.Errorf("conversations --json: %q", stdout)
	}
	code, stdout, _ = c.run("", "users", "--json", "b")
	var ul wire.UserList
	if code != 0 || json.Unmarshal([]byte(stdout), &ul) != nil || len(ul.Users) != 2 {
		t.Errorf("users --json: %q", stdout)
	}
}

func TestTOTPEnroll(t *testing.T) {
	_, c := loggedIn(t)
	old := c.loadConfig().Token
	code, stdout, stderr := c.run("123 456\n", "totp", "enroll")
	if code != 0 {
		t.Fatalf("totp enroll: %d %q", code, stderr)
	}
	for _, want := range []string{"JBSWY3DPEHPK3PXP", "otpauth://totp/", "RC-1", "RC-2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q: %q", want, stdout)
		}
	}
	tok := c.loadConfig().Token
	if tok == old || strings.Contains(stdout, tok) {
		t.Errorf("replacement session not saved (or printed)")
	}
	// The saved (replacement) session works.
	if code, _, stderr = c.run("", "whoami"); code != 0 {
		t.Errorf("whoami after enrolment: %q", stderr)
	}
}

func TestSessionsUsersConversationsAdmin(t *testing.T) {
	_, c := loggedIn(t)
	tests := []struct {
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{args: []string{"sessions"}, stdout: "parley-cli/1"},
		{args: []string{"sessions", "revoke", "s2"}, stdout: "Session revoked."},
		{args: []string{"sessions", "revoke", "s9"}, code: 1, stderr: "parley: no such session (not_found)"},
		{args: []string{"new-conversation", "--title", "T", "--members", "u2,u3"}, stdout: "c2\n"},
		{stdin: "initial-pw\n", args: []string{"create-user", "--username", "cy", "--display-name", "Cy", "--password-stdin"}, stdout: "u3\n"},
		// Without a terminal, the password prompt refuses rather than echo.
		{args: []string{"create-user", "--username", "cy", "--display-name", "Cy"}, code: 1, stderr: "no terminal"},
		{args: []string{"users"}, stdout: "bob"},
	}
	for _, tt := range tests {
		code, stdout, stderr := c.run(tt.stdin, tt.args...)
		if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%q: %d %q %q", tt.args, code, stdout, stderr)
		}
	}
}
