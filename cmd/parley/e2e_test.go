package main

// End-to-end tests of the CLI against the real server (parleytest runs a
// whole node in-process, on SQLite, with TLS and a settable clock). The
// fake server in fake_test.go covers the CLI's edge cases; these tests
// prove that the CLI and the server agree on the protocol.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// e2eTimeout bounds every test; a hang fails rather than stalls the suite.
const e2eTimeout = 60 * time.Second

func e2eCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), e2eTimeout)
	t.Cleanup(cancel)
	return ctx
}

// e2eCLI runs parley commands against one config file and one server.
type e2eCLI struct {
	t      *testing.T
	s      *parleytest.Server
	config string
}

func newE2ECLI(t *testing.T, s *parleytest.Server) *e2eCLI {
	return &e2eCLI{t: t, s: s, config: filepath.Join(t.TempDir(), "parley", "config.json")}
}

// useSession writes a config file holding token, as if "parley login" had
// signed in with it (for sessions the test made through the SDK).
func (c *e2eCLI) useSession(token string) {
	c.t.Helper()
	data, _ := json.Marshal(config{Server: c.s.URL, CAFile: c.s.CAFile, Token: token})
	if err := os.MkdirAll(filepath.Dir(c.config), 0o700); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(c.config, data, 0o600); err != nil {
		c.t.Fatal(err)
	}
}

func (c *e2eCLI) env(stdin io.Reader, out, errb io.Writer) *env {
	return &env{stdin: stdin, stdout: out, stderr: errb,
		getenv:       func(k string) string { return map[string]string{"PARLEY_CONFIG": c.config}[k] },
		readPassword: func(string) (string, error) { return "", errors.New("no terminal in tests") }}
}

// run executes one command with the given stdin and returns exit code,
// stdout and stderr.
func (c *e2eCLI) run(ctx context.Context, stdin string, args ...string) (int, string, string) {
	var out, errb syncBuffer
	code := run(ctx, args, c.env(strings.NewReader(stdin), &out, &errb))
	return code, out.String(), errb.String()
}

// mustRun is run that fails the test on a non-zero exit.
func (c *e2eCLI) mustRun(ctx context.Context, stdin string, args ...string) string {
	c.t.Helper()
	code, stdout, stderr := c.run(ctx, stdin, args...)
	if code != 0 {
		c.t.Fatalf("parley %q: exit %d\nstdout %q\nstderr %q", args, code, stdout, stderr)
	}
	return stdout
}

// login signs username in with the test password, pinning the server's CA.
func (c *e2eCLI) login(ctx context.Context, username, stdin string) string {
	c.t.Helper()
	return c.mustRun(ctx, stdin, "login", "--server", c.s.URL, "--ca", c.s.CAFile, "--user", username, "--password-stdin")
}

func (c *e2eCLI) token() string {
	cfg, err := loadConfig(c.config, io.Discard)
	if err != nil {
		c.t.Fatal(err)
	}
	return cfg.Token
}

// waitFor polls buf until it contains want or ctx ends. Polling only
// observes progress; no assertion depends on how long anything takes.
func waitFor(ctx context.Context, t *testing.T, buf *syncBuffer, want string, other *syncBuffer) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(buf.String(), want) {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %q: %v\noutput %q\nother %q", want, ctx.Err(), buf.String(), other.String())
		case <-tick.C:
		}
	}
}

// e2eWorld is a server with an enrolled admin and two plain users.
func e2eWorld(t *testing.T) (context.Context, *parleytest.Server, *parleytest.Admin, *parleytest.User, *parleytest.User) {
	ctx := e2eCtx(t)
	s := parleytest.NewServer(t)
	admin := s.SetupAdmin(ctx)
	alice := s.NewUser(ctx, admin, "alice")
	bob := s.NewUser(ctx, admin, "bob")
	return ctx, s, admin, alice, bob
}

func TestE2ELoginWhoamiSessionsLogout(t *testing.T) {
	ctx, s, _, alice, _ := e2eWorld(t)
	c := newE2ECLI(t, s)

	// Without --ca the self-signed server is refused, and nothing is saved.
	code, _, stderr := c.run(ctx, parleytest.Password+"\n", "login", "--server", s.URL, "--user", "alice", "--password-stdin")
	if code != 1 || !strings.Contains(stderr, "certificate") || !strings.Contains(stderr, "pin it with 'parley login --ca FILE'") || c.token() != "" {
		t.Fatalf("unpinned login: %d %q", code, stderr)
	}
	code, _, stderr = c.run(ctx, "Wrong-Password-1!\n", "login", "--server", s.URL, "--ca", s.CAFile, "--user", "alice", "--password-stdin")
	if code != 1 || !strings.Contains(stderr, "(unauthenticated)") || c.token() != "" {
		t.Fatalf("wrong password: %d %q", code, stderr)
	}

	out := c.login(ctx, "alice", parleytest.Password+"\n")
	if want := "Logged in to " + s.URL + " as alice (User alice).\n"; !strings.HasPrefix(out, want) {
		t.Errorf("login output %q, want prefix %q", out, want)
	}
	if strings.Contains(out, c.token()) || strings.Contains(out, parleytest.Password) {
		t.Errorf("login output shows a secret: %q", out)
	}

	out = c.mustRun(ctx, "", "whoami")
	for _, want := range []string{"user:        alice (User alice)", "user id:     " + alice.UserID, "mfa:         false"} {
		if !strings.Contains(out, want) {
			t.Errorf("whoami lacks %q:\n%s", want, out)
		}
	}
	var me wire.Me
	if err := json.Unmarshal([]byte(c.mustRun(ctx, "", "whoami", "--json")), &me); err != nil || me.UserID != alice.UserID || me.Username != "alice" {
		t.Errorf("whoami --json: %+v %v", me, err)
	}

	// Two sessions: the SDK's (from NewUser) and the CLI's, which is current.
	var sl wire.SessionList
	if err := json.Unmarshal([]byte(c.mustRun(ctx, "", "sessions", "--json")), &sl); err != nil || len(sl.Sessions) != 2 {
		t.Fatalf("sessions --json: %+v %v", sl, err)
	}
	var current wire.Session
	for _, se := range sl.Sessions {
		if se.Current {
			current = se
		}
	}
	if current.UserAgent != userAgent || current.SessionID == "" {
		t.Errorf("current session %+v, want user agent %q", current, userAgent)
	}
	out = c.mustRun(ctx, "", "sessions")
	if !strings.Contains(out, current.SessionID+"  *") || !strings.Contains(out, userAgent) || !strings.Contains(out, "(* this session)") {
		t.Errorf("sessions:\n%s", out)
	}

	// Logging in again retires the session it replaces.
	first := c.token()
	c.login(ctx, "alice", parleytest.Password+"\n")
	if c.token() == first {
		t.Fatal("second login kept the token")
	}
	if err := json.Unmarshal([]byte(c.mustRun(ctx, "", "sessions", "--json")), &sl); err != nil || len(sl.Sessions) != 2 {
		t.Errorf("after a second login: %+v %v (the first CLI session must be gone)", sl, err)
	}

	// Logout ends the session on the server, not just locally.
	token := c.token()
	if out = c.mustRun(ctx, "", "logout"); out != "Logged out.\n" {
		t.Errorf("logout: %q", out)
	}
	code, _, stderr = c.run(ctx, "", "conversations")
	if code != 1 || !strings.Contains(stderr, "not logged in") || !strings.Contains(stderr, "parley login") {
		t.Errorf("conversations after logout: %d %q", code, stderr)
	}
	if err := saveConfig(c.config, &config{Server: s.URL, CAFile: s.CAFile, Token: token}, false); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = c.run(ctx, "", "whoami")
	if code != 1 || !strings.Contains(stderr, "(unauthenticated)") || !strings.Contains(stderr, "run 'parley login' to sign in again") {
		t.Errorf("whoami with the logged-out token: %d %q", code, stderr)
	}
	// The server was told: the SDK session of alice is the only one left.
	sessions, err := alice.Sessions(ctx)
	if err != nil || len(sessions) != 1 || !sessions[0].Current {
		t.Errorf("alice's sessions after logout: %+v %v", sessions, err)
	}
	// Logging out a dead session just forgets it.
	if code, _, stderr = c.run(ctx, "", "logout"); code != 0 || c.token() != "" {
		t.Errorf("logout of a dead session: %d %q", code, stderr)
	}
}

func TestE2EConversationsSendHistory(t *testing.T) {
	ctx, s, _, alice, bob := e2eWorld(t)
	c := newE2ECLI(t, s)
	c.login(ctx, "alice", parleytest.Password+"\n")

	out := c.mustRun(ctx, "", "conversations")
	if strings.TrimSpace(out) != "ID  TYPE  TITLE  MEMBERS  LAST SEQ" {
		t.Errorf("empty conversation list:\n%s", out)
	}
	conv := strings.TrimSpace(c.mustRun(ctx, "", "new-conversation", "--type", "group", "--title", "Ops room", "--members", bob.UserID))
	if conv == "" || strings.ContainsAny(conv, " \n") {
		t.Fatalf("new-conversation printed %q", conv)
	}
	// Bob sees it through the SDK.
	bobConvs, err := bob.Conversations(ctx)
	if err != nil || len(bobConvs) != 1 || bobConvs[0].ConversationID != conv || bobConvs[0].Title != "Ops room" {
		t.Fatalf("bob's conversations: %+v %v", bobConvs, err)
	}

	texts := []string{"first", "second -with a dash", "third: ünïcödé"}
	for i, text := range texts {
		out := c.mustRun(ctx, "", append([]string{"send", conv}, strings.Fields(text)...)...)
		if !strings.HasPrefix(out, fmt.Sprintf("Sent #%d (", i+1)) {
			t.Errorf("send %q: %q", text, out)
		}
	}
	// From stdin, multi-line, with an escape sequence the CLI must not print.
	c.mustRun(ctx, "line one\n\x1b[2Jline two\n", "send", conv, "-")
	var sr wire.SendResponse
	if err := json.Unmarshal([]byte(c.mustRun(ctx, "", "send", "--json", conv, "as", "json")), &sr); err != nil || sr.Seq != 5 || sr.MessageID == "" {
		t.Fatalf("send --json: %+v %v", sr, err)
	}
	if _, err := bob.Send(ctx, conv, "bob-1", "hi from bob"); err != nil {
		t.Fatal(err)
	}

	out = c.mustRun(ctx, "", "history", conv)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	wantBodies := []string{"alice: first", "alice: second -with a dash", "alice: third: ünïcödé",
		"alice: line one", "    \uFFFD[2Jline two", "alice: as json", "bob: hi from bob"}
	if len(lines) != len(wantBodies) {
		t.Fatalf("history:\n%s", out)
	}
	seq := 1
	for i, want := range wantBodies {
		if strings.HasPrefix(want, "    ") { // continuation line
			if lines[i] != want {
				t.Errorf("line %d = %q, want %q", i, lines[i], want)
			}
			continue
		}
		if !strings.HasPrefix(lines[i], fmt.Sprintf("#%d 2026-11-", seq)) || !strings.HasSuffix(lines[i], " "+want) {
			t.Errorf("line %d = %q, want #%d … %q", i, lines[i], seq, want)
		}
		seq++
	}
	if strings.Contains(out, "\x1b") {
		t.Error("history printed a raw escape sequence")
	}

	var ml wire.MessageList
	if err := json.Unmarshal([]byte(c.mustRun(ctx, "", "history", "--json", conv)), &ml); err != nil || len(ml.Messages) != 6 {
		t.Fatalf("history --json: %+v %v", ml, err)
	}
	wantJSON := []string{"first", "second -with a dash", "third: ünïcödé", "line one\n\x1b[2Jline two", "as json", "hi from bob"}
	for i, m := range ml.Messages {
		sender := alice.UserID
		if i == 5 {
			sender = bob.UserID
		}
		if m.Seq != int64(i+1) || m.Body != wantJSON[i] || m.SenderID != sender {
			t.Errorf("message %d = %+v", i, m)
		}
	}
	if ml.Messages[4].MessageID != sr.MessageID || !ml.Messages[4].SentAt.Equal(sr.SentAt) {
		t.Errorf("sent %+v, history has %+v", sr, ml.Messages[4])
	}
	// Paging flags reach the server.
	if err := json.Unmarshal([]byte(c.mustRun(ctx, "", "history", "--json", conv, "--after", "2", "--limit", "2")), &ml); err != nil ||
		len(ml.Messages) != 2 || ml.Messages[0].Seq != 3 || ml.Messages[1].Seq != 4 {
		t.Errorf("history --after 2 --limit 2: %+v %v", ml, err)
	}
	if err := json.Unmarshal([]byte(c.mustRun(ctx, "", "history", "--json", conv, "--before", "3")), &ml); err != nil ||
		len(ml.Messages) != 2 || ml.Messages[0].Seq != 1 || ml.Messages[1].Seq != 2 {
		t.Errorf("history --before 3: %+v %v", ml, err)
	}

	out = c.mustRun(ctx, "", "conversations")
	if !strings.Contains(out, conv) || !strings.Contains(out, "group") || !strings.Contains(out, "Ops room") {
		t.Errorf("conversations:\n%s", out)
	}
	var cl wire.ConversationList
	if err := json.Unmarshal([]byte(c.mustRun(ctx, "", "conversations", "--json")), &cl); err != nil ||
		len(cl.Conversations) != 1 || cl.Conversations[0].LastSeq != 6 || len(cl.Conversations[0].MemberIDs) != 2 {
		t.Errorf("conversations --json: %+v %v", cl, err)
	}

	// Server refusals come back as clean errors.
	code, _, stderr := c.run(ctx, "", "history", "no-such-conversation")
	if code != 1 || !strings.HasPrefix(stderr, "parley: ") || !strings.Contains(stderr, "(not_found)") {
		t.Errorf("history of an unknown conversation: %d %q", code, stderr)
	}
	code, _, stderr = c.run(ctx, "", "send", "no-such-conversation", "hello")
	if code != 1 || !strings.Contains(stderr, "(not_found)") {
		t.Errorf("send to an unknown conversation: %d %q", code, stderr)
	}
	code, _, stderr = c.run(ctx, "", "new-conversation", "--type", "direct", "--members", "no-such-user")
	if code != 1 || !strings.HasPrefix(stderr, "parley: ") {
		t.Errorf("direct conversation with an unknown user: %d %q", code, stderr)
	}

	// A direct conversation works too.
	direct := strings.TrimSpace(c.mustRun(ctx, "", "new-conversation", "--type", "direct", "--members", bob.UserID))
	c.mustRun(ctx, "", "send", direct, "psst")
	if out = c.mustRun(ctx, "", "history", direct); !strings.Contains(out, "alice: psst") {
		t.Errorf("direct history: %q", out)
	}
}

// runTail starts "parley tail ARGS" and returns its output buffers, a
// cancel function and the channel that receives its exit code.
func (c *e2eCLI) runTail(ctx context.Context, args ...string) (out, errb *syncBuffer, cancel context.CancelFunc, exit chan int) {
	out, errb = &syncBuffer{}, &syncBuffer{}
	tctx, cancel := context.WithCancel(ctx)
	exit = make(chan int, 1)
	go func() { exit <- run(tctx, append([]string{"tail"}, args...), c.env(strings.NewReader(""), out, errb)) }()
	return out, errb, cancel, exit
}

func waitExit(ctx context.Context, t *testing.T, exit chan int, errb *syncBuffer) {
	t.Helper()
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("tail exit %d; stderr %q", code, errb.String())
		}
	case <-ctx.Done():
		t.Fatalf("tail did not stop after cancel; stderr %q", errb.String())
	}
}

func TestE2ETail(t *testing.T) {
	ctx, s, _, alice, bob := e2eWorld(t)
	conv, err := alice.CreateConversation(ctx, "group", []string{bob.UserID}, "Ops")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Send(ctx, conv, "old-1", "before tail"); err != nil {
		t.Fatal(err)
	}
	c := newE2ECLI(t, s)
	c.login(ctx, "alice", parleytest.Password+"\n")

	out, errb, cancel, exit := c.runTail(ctx)
	defer cancel()
	waitFor(ctx, t, errb, "waiting for messages", out)
	if _, err := bob.Send(ctx, conv, "bob-1", "hello \x1b[31mred"); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, out, "hello", errb)
	// A conversation created after tail started is followed too.
	conv2, err := bob.CreateConversation(ctx, "direct", []string{alice.UserID}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Send(ctx, conv2, "bob-2", "new conversation"); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, out, "new conversation", errb)
	cancel()
	waitExit(ctx, t, exit, errb)

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "[Ops] ") || !strings.HasSuffix(lines[0], " bob: hello \uFFFD[31mred") ||
		!strings.HasSuffix(lines[1], " bob: new conversation") {
		t.Errorf("tail printed:\n%s", out.String())
	}
	if strings.Contains(out.String(), "before tail") {
		t.Error("tail printed a message from before it started")
	}
	if strings.Contains(errb.String(), "reconnect") || strings.Contains(errb.String(), "server:") {
		t.Errorf("tail stderr %q", errb.String())
	}
}

func TestE2ETailJSON(t *testing.T) {
	ctx, s, _, alice, bob := e2eWorld(t)
	conv, err := alice.CreateConversation(ctx, "group", []string{bob.UserID}, "Ops")
	if err != nil {
		t.Fatal(err)
	}
	other, err := alice.CreateConversation(ctx, "group", []string{bob.UserID}, "Other")
	if err != nil {
		t.Fatal(err)
	}
	c := newE2ECLI(t, s)
	c.login(ctx, "alice", parleytest.Password+"\n")

	// Follow one conversation only.
	out, errb, cancel, exit := c.runTail(ctx, "--json", conv)
	defer cancel()
	if _, err := bob.Send(ctx, other, "o-1", "ignored"); err != nil {
		t.Fatal(err)
	}
	// In --json mode tail says nothing when it is ready, and a message sent
	// before it has loaded the conversation list counts as old. So bob
	// keeps sending until one is printed; whichever that is, tail must then
	// print every later message exactly once, in order.
	send := func(i int) {
		if _, err := bob.Send(ctx, conv, fmt.Sprintf("b-%d", i), fmt.Sprintf("msg %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(out.String(), `"body"`) {
		n++
		send(n)
		select {
		case <-ctx.Done():
			t.Fatalf("tail printed nothing: %q", errb.String())
		case <-tick.C:
		}
	}
	for range 3 {
		n++
		send(n)
	}
	waitFor(ctx, t, out, fmt.Sprintf(`"msg %d"`, n), errb)
	cancel()
	waitExit(ctx, t, exit, errb)

	var seqs []int64
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m wire.MessageFrame
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if m.Type != "message" || m.ConversationID != conv || m.SenderID != bob.UserID || m.Body != fmt.Sprintf("msg %d", m.Seq) || m.MessageID == "" {
			t.Errorf("line %q", line)
		}
		seqs = append(seqs, m.Seq)
	}
	if len(seqs) < 4 || seqs[len(seqs)-1] != int64(n) {
		t.Fatalf("printed seqs %v, want a run ending at %d", seqs, n)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Errorf("printed seqs %v: not contiguous", seqs)
		}
	}
	if errb.String() != "" {
		t.Errorf("tail --json stderr %q", errb.String())
	}
}

func TestE2ETailUnauthenticated(t *testing.T) {
	ctx, s, _, _, _ := e2eWorld(t)
	c := newE2ECLI(t, s)
	c.login(ctx, "alice", parleytest.Password+"\n")
	token := c.token()
	c.mustRun(ctx, "", "logout")
	if err := saveConfig(c.config, &config{Server: s.URL, CAFile: s.CAFile, Token: token}, false); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := c.run(ctx, "", "tail")
	if code != 1 || !strings.Contains(stderr, "(unauthenticated)") || !strings.Contains(stderr, "parley login") {
		t.Errorf("tail with a dead session: %d %q", code, stderr)
	}
}

// TestE2ETailSessionRevoked: the session is revoked from another device
// while tail runs; the server closes the WebSocket and tail stops with the
// sign-in hint instead of reconnecting forever.
func TestE2ETailSessionRevoked(t *testing.T) {
	ctx, s, _, alice, _ := e2eWorld(t)
	c := newE2ECLI(t, s)
	c.login(ctx, "alice", parleytest.Password+"\n")
	out, errb, cancel, exit := c.runTail(ctx)
	defer cancel()
	waitFor(ctx, t, errb, "waiting for messages", out)

	sessions, err := alice.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	revoked := false
	for _, se := range sessions {
		if !se.Current && se.UserAgent == userAgent {
			if err := alice.RevokeSession(ctx, se.SessionID); err != nil {
				t.Fatal(err)
			}
			revoked = true
		}
	}
	if !revoked {
		t.Fatalf("no CLI session among %+v", sessions)
	}
	select {
	case code := <-exit:
		if code != 1 || !strings.Contains(errb.String(), "(unauthenticated)") || !strings.Contains(errb.String(), "run 'parley login' to sign in again") {
			t.Errorf("tail after revocation: exit %d, stderr %q", code, errb.String())
		}
	case <-ctx.Done():
		t.Fatalf("tail kept running after its session was revoked; stderr %q", errb.String())
	}
}

// TestE2EAdminSetupEnrolAndMFALogin follows the README: the setup admin
// logs in (no MFA yet), is told to enrol, enrols with "parley totp enroll"
// answering the code prompt, and later logs in with password and TOTP
// code, both read from stdin (not a terminal: no prompts are printed).
func TestE2EAdminSetupEnrolAndMFALogin(t *testing.T) {
	ctx := e2eCtx(t)
	s := parleytest.NewServer(t)
	sc := s.Client()
	if _, err := sc.Setup(ctx, wire.SetupRequest{SetupToken: s.SetupToken, Username: "admin", Password: parleytest.Password, DisplayName: "Admin"}); err != nil {
		t.Fatal(err)
	}
	c := newE2ECLI(t, s)
	out := c.login(ctx, "admin", parleytest.Password+"\n")
	if !strings.Contains(out, "as admin (Admin)") || !strings.Contains(out, "parley totp enroll") {
		t.Errorf("login output %q", out)
	}
	code, _, stderr := c.run(ctx, "", "conversations")
	if code != 1 || !strings.Contains(stderr, "(mfa_enrollment_required)") || !strings.Contains(stderr, "run 'parley totp enroll' first") {
		t.Errorf("conversations before enrolment: %d %q", code, stderr)
	}

	// totp enroll prints the secret, then reads the code from stdin: feed
	// it through a pipe once the secret is known.
	before := c.token()
	pr, pw := io.Pipe()
	var eout, eerr syncBuffer
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"totp", "enroll"}, c.env(pr, &eout, &eerr)) }()
	waitFor(ctx, t, &eout, "  url:", &eerr)
	secret := ""
	for _, line := range strings.Split(eout.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "  secret: "); ok {
			secret = strings.TrimSpace(rest)
		}
	}
	if secret == "" {
		t.Fatalf("no secret in %q", eout.String())
	}
	code0 := s.TOTPCode(secret)
	if _, err := io.WriteString(pw, code0[:3]+" "+code0[3:]+"\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case code = <-exit:
	case <-ctx.Done():
		t.Fatalf("totp enroll did not finish: %q %q", eout.String(), eerr.String())
	}
	_ = pw.Close()
	if code != 0 || !strings.Contains(eout.String(), "TOTP enrolled") {
		t.Fatalf("totp enroll: %d %q %q", code, eout.String(), eerr.String())
	}
	var recovery []string
	for _, line := range strings.Split(strings.SplitN(eout.String(), "Recovery codes", 2)[1], "\n")[1:] {
		if line = strings.TrimSpace(line); line != "" {
			recovery = append(recovery, line)
		}
	}
	if len(recovery) == 0 {
		t.Fatalf("no recovery codes in %q", eout.String())
	}
	if c.token() == before {
		t.Error("the replacement session was not saved")
	}
	if out = c.mustRun(ctx, "", "whoami"); !strings.Contains(out, "mfa:         true") {
		t.Errorf("whoami after enrolment:\n%s", out)
	}
	c.mustRun(ctx, "", "conversations")

	// Admin creates a user from the CLI; the user logs in from another CLI.
	uid := strings.TrimSpace(c.mustRun(ctx, parleytest.Password+"\n", "create-user", "--username", "carol", "--display-name", "Carol", "--password-stdin"))
	if uid == "" {
		t.Fatal("create-user printed no ID")
	}
	carol := newE2ECLI(t, s)
	carol.login(ctx, "carol", parleytest.Password+"\n")
	if out = carol.mustRun(ctx, "", "users", "--json", "carol"); !strings.Contains(out, uid) {
		t.Errorf("users carol: %q", out)
	}

	// An MFA login: password, then the TOTP code, on stdin.
	c.mustRun(ctx, "", "logout")
	code, stdout, stderr := c.run(ctx, parleytest.Password+"\n"+s.TOTPCode(secret)+"\n", "login", "--user", "admin", "--password-stdin")
	if code != 0 || !strings.Contains(stdout, "as admin (Admin)") || strings.Contains(stdout, "totp enroll") {
		t.Fatalf("MFA login: %d %q %q", code, stdout, stderr)
	}
	if stderr != "" {
		t.Errorf("prompts printed without a terminal: %q", stderr)
	}
	c.mustRun(ctx, "", "conversations")

	// A wrong code fails and keeps the saved session.
	saved := c.token()
	code, _, stderr = c.run(ctx, parleytest.Password+"\n000000\n", "login", "--user", "admin", "--password-stdin")
	if code != 1 || !strings.Contains(stderr, "(unauthenticated)") || c.token() != saved {
		t.Errorf("wrong TOTP code: %d %q", code, stderr)
	}
	// The same code twice is refused (replay): TOTPCode moved the clock on,
	// so compute the current one and use it twice.
	replayed := s.TOTPCode(secret)
	c.mustRun(ctx, parleytest.Password+"\n"+replayed+"\n", "login", "--user", "admin", "--password-stdin")
	code, _, stderr = c.run(ctx, parleytest.Password+"\n"+replayed+"\n", "login", "--user", "admin", "--password-stdin")
	if code != 1 || !strings.Contains(stderr, "(unauthenticated)") {
		t.Errorf("replayed TOTP code: %d %q", code, stderr)
	}
	// A recovery code works once.
	c.mustRun(ctx, parleytest.Password+"\nr:"+recovery[0]+"\n", "login", "--user", "admin", "--password-stdin")
	code, _, _ = c.run(ctx, parleytest.Password+"\nr:"+recovery[0]+"\n", "login", "--user", "admin", "--password-stdin")
	if code != 1 {
		t.Error("a recovery code worked twice")
	}
	// Missing code: end of input is a clear error.
	code, _, stderr = c.run(ctx, parleytest.Password+"\n", "login", "--user", "admin", "--password-stdin")
	if code != 1 || !strings.Contains(stderr, "end of input") {
		t.Errorf("missing MFA code: %d %q", code, stderr)
	}
}

// TestE2EPushLoginAndApprove: `parley login` answers the second-factor
// prompt with "push", shows the number to pick, and finishes once a device
// that is signed in approves with that number; `parley approve` is such a
// device's side.
func TestE2EPushLoginAndApprove(t *testing.T) {
	ctx := e2eCtx(t)
	s := parleytest.NewServer(t)
	admin := s.SetupAdmin(ctx) // signed in with a second factor: may approve
	c := newE2ECLI(t, s)

	var out, errb syncBuffer
	exit := make(chan int, 1)
	stdin := parleytest.Password + "\npush\n"
	go func() {
		exit <- run(ctx, []string{"login", "--server", s.URL, "--ca", s.CAFile, "--user", "admin", "--password-stdin"},
			c.env(strings.NewReader(stdin), &out, &errb))
	}()
	var id string
	var number int
	for id == "" {
		if i := strings.Index(out.String(), "parley approve "); i >= 0 {
			if n, _ := fmt.Sscanf(out.String()[i:], "parley approve %s %d)", &id, &number); n == 2 {
				break
			}
			id = ""
		}
		select {
		case code := <-exit:
			t.Fatalf("login ended early with %d: %q %q", code, out.String(), errb.String())
		case <-ctx.Done():
			t.Fatal("no push prompt")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := admin.ApprovePush(ctx, id, (number+1)%100); err == nil {
		t.Fatal("a wrong number approved the sign-in")
	}
	if code := <-exit; code == 0 {
		t.Fatal("login succeeded after a wrong-number denial")
	}

	// Again, approved from the CLI of a signed-in device this time.
	phone := s.Client()
	res, err := phone.Login(ctx, "admin", parleytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	req, err := phone.BeginPush(ctx, res.MFAToken)
	if err != nil {
		t.Fatal(err)
	}
	desk := newE2ECLI(t, s)
	desk.mustRun(ctx, parleytest.Password+"\n"+s.TOTPCode(admin.TOTPSecret)+"\n",
		"login", "--server", s.URL, "--ca", s.CAFile, "--user", "admin", "--password-stdin")
	desk.mustRun(ctx, "", "approve", req.RequestID, fmt.Sprintf("%02d", req.Number))
	if got, err := phone.PollPush(ctx, res.MFAToken, req.RequestID); err != nil || got.Token == "" {
		t.Fatalf("after approval: %+v, %v", got, err)
	}
	if _, err := phone.Me(ctx); err != nil {
		t.Fatal(err)
	}
}
