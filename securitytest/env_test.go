package securitytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
	"github.com/pquerna/otp/totp"
)

// password is a policy-compliant password for the suite's accounts.
const password = parleytest.Password

// env is one server under attack — in-process (srv set) or a -target — and
// the accounts the suite made on it, created on first use.
type env struct {
	url        string // https://host:port
	host       string // host:port
	pool       *x509.CertPool
	caFile     string
	srv        *parleytest.Server // nil against a target
	textLog    *syncBuffer        // the in-process server's log, text and JSON
	jsonLog    *syncBuffer
	setupToken string
	suffix     string // appended to usernames against a target

	mu       sync.Mutex
	adm      *account
	aud      *account
	sec      *account
	users    map[string]*account
	objs     map[string]string
	lastStep map[string]int64
	seq      int

	https *http.Client // HTTP/2 or HTTP/1.1, no redirects
	http1 *http.Client // HTTP/1.1 only (WebSocket upgrades)
}

// account is a logged-in user of the suite.
type account struct {
	*client.Client
	ID, Username, TOTPSecret string
	Recovery                 []string
	checked                  time.Time // server time the session was last known alive
}

func newEnv(t *testing.T, opts []parleytest.ServerOption) *env {
	t.Helper()
	e := &env{users: map[string]*account{}, objs: map[string]string{}, lastStep: map[string]int64{}}
	if targetMode() {
		u, err := url.Parse(*flagTarget)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			t.Fatalf("-target must be an https:// URL, got %q", *flagTarget)
		}
		e.url, e.host, e.caFile, e.setupToken = strings.TrimSuffix(*flagTarget, "/"), u.Host, *flagCA, *flagSetupToken
		var b [3]byte
		_, _ = rand.Read(b[:])
		e.suffix = "-" + hex.EncodeToString(b[:])
	} else {
		e.textLog, e.jsonLog = &syncBuffer{}, &syncBuffer{}
		lopts := &slog.HandlerOptions{Level: slog.LevelDebug}
		log := slog.New(slog.NewMultiHandler(slog.NewTextHandler(e.textLog, lopts), slog.NewJSONHandler(e.jsonLog, lopts)))
		e.srv = parleytest.NewServer(t, append([]parleytest.ServerOption{parleytest.WithLogger(log)}, opts...)...)
		e.url, e.caFile, e.setupToken = e.srv.URL, e.srv.CAFile, e.srv.SetupToken
		e.host = strings.TrimPrefix(e.url, "https://")
	}
	if e.caFile != "" {
		pem, err := os.ReadFile(e.caFile)
		if err != nil {
			t.Fatal(err)
		}
		e.pool = x509.NewCertPool()
		if !e.pool.AppendCertsFromPEM(pem) {
			t.Fatalf("no certificate in %s", e.caFile)
		}
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e.https = &http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirect, Transport: &http.Transport{
		TLSClientConfig: e.tlsConfig(), ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 8}}
	h1 := e.tlsConfig()
	h1.NextProtos = []string{"http/1.1"}
	e.http1 = &http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirect, Transport: &http.Transport{TLSClientConfig: h1}}
	return e
}

// tlsConfig is a modern client configuration trusting the server's CA.
func (e *env) tlsConfig() *tls.Config {
	host := e.host
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return &tls.Config{RootCAs: e.pool, MinVersion: tls.VersionTLS12, ServerName: strings.Trim(host, "[]")}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// now is the server's time: the settable clock in-process, the wall clock
// against a target.
func (e *env) now() time.Time {
	if e.srv != nil {
		return e.srv.Clock.Now()
	}
	return time.Now()
}

// cooldown refills the login rate limits in-process (a minute passes).
func (e *env) cooldown(t *testing.T) {
	t.Helper()
	if e.srv != nil {
		e.srv.Clock.Advance(61 * time.Second)
	}
}

// fresh keeps a fixture account's session alive across scenarios that move
// the clock: after ten minutes of server time it is checked, and renewed
// if the idle timeout ended it.
func (e *env) keep(t *testing.T, a *account) *account {
	t.Helper()
	if e.srv == nil || e.now().Sub(a.checked) < 10*time.Minute {
		return a
	}
	if _, err := a.Me(ctx(t)); err != nil {
		a.SetToken(e.login(t, a).Token())
	}
	a.checked = e.now()
	return a
}

// advance moves the in-process server's clock (never called against a
// target: such scenarios are marked inProcess).
func (e *env) advance(t *testing.T, d time.Duration) {
	t.Helper()
	if e.srv == nil {
		t.Fatal("advance: no clock to move against a target")
	}
	e.srv.Clock.Advance(d)
}

// totpCode returns a code for secret that the server has not seen yet:
// TOTP accepts the current step ±1, each step once. In-process the clock
// moves on when needed; against a target this waits for the next step.
func (e *env) totpCode(t *testing.T, secret string) string {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		step := e.now().Unix() / 30
		use := max(step, e.lastStep[secret]+1)
		if use <= step+1 {
			e.lastStep[secret] = use
			code, err := totp.GenerateCode(secret, time.Unix(use*30, 0))
			if err != nil {
				t.Fatal(err)
			}
			return code
		}
		if e.srv != nil {
			e.srv.Clock.Advance(30 * time.Second)
		} else {
			time.Sleep(time.Until(time.Unix((step+1)*30, 0)) + 200*time.Millisecond)
		}
	}
}

// unique returns a fresh name with prefix, valid as a username.
func (e *env) unique(prefix string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	return fmt.Sprintf("%s%d%s", prefix, e.seq, e.suffix)
}

func (e *env) newClient(t *testing.T, token string) *client.Client {
	t.Helper()
	opts := []client.Option{client.WithToken(token)}
	if e.pool != nil {
		opts = append(opts, client.WithRootCAs(e.pool))
	}
	c, err := client.New(e.url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// admin is the setup administrator (system_admin) with TOTP enrolled.
func (e *env) admin(t *testing.T) *account {
	t.Helper()
	if e.adm != nil {
		return e.keep(t, e.adm)
	}
	if e.setupToken == "" {
		t.Skip("no setup token: the suite cannot make accounts on this target")
	}
	ctx := ctxFor(t)
	c := e.newClient(t, "")
	name := "admin" + e.suffix
	id, err := c.Setup(ctx, wire.SetupRequest{SetupToken: e.setupToken, Username: name, Password: password, DisplayName: "Suite Admin"})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	a := &account{Client: c, ID: id, Username: name, checked: e.now()}
	e.loginAndEnrol(t, a)
	e.adm = a
	return a
}

// loginAndEnrol logs a in with the password and enrols TOTP.
func (e *env) loginAndEnrol(t *testing.T, a *account) {
	t.Helper()
	ctx := ctxFor(t)
	e.loginRetry(t, a.Client, a.Username)
	enr, err := a.EnrollTOTP(ctx)
	if err != nil {
		t.Fatalf("enrol %s: %v", a.Username, err)
	}
	a.TOTPSecret = enr.Secret
	conf, err := a.ConfirmTOTP(ctx, e.totpCode(t, enr.Secret))
	if err != nil {
		t.Fatalf("confirm %s: %v", a.Username, err)
	}
	a.Recovery = conf.RecoveryCodes
}

// dept returns the ID of a department made by the admin, by name.
func (e *env) dept(t *testing.T, name string) string {
	t.Helper()
	if id, ok := e.objs[name]; ok {
		return id
	}
	d, err := e.admin(t).CreateDepartment(ctx(t), wire.CreateDepartmentRequest{Name: name + e.suffix})
	if err != nil {
		t.Fatalf("department %s: %v", name, err)
	}
	e.objs[name] = d.DepartmentID
	return d.DepartmentID
}

func ctx(t *testing.T) context.Context { return ctxFor(t) }

// user returns a fixture user: alice and bob work in Engineering, carol in
// Finance; any other name is put in the root department.
func (e *env) user(t *testing.T, name string) *account {
	t.Helper()
	if u, ok := e.users[name]; ok {
		return e.keep(t, u)
	}
	var dept string
	switch name {
	case "alice", "bob":
		dept = e.dept(t, "Engineering")
	case "carol":
		dept = e.dept(t, "Finance")
	}
	u := e.createUser(t, name+e.suffix, dept, nil)
	e.users[name] = u
	return u
}

// fresh returns a new throwaway user, for scenarios that spoil an account
// (lockout, enrolment, revocation).
func (e *env) fresh(t *testing.T, prefix string) *account {
	t.Helper()
	return e.createUser(t, e.unique(prefix), "", nil)
}

// createUser makes an account through the admin and logs it in (without
// MFA: a plain user has none until enrolled).
func (e *env) createUser(t *testing.T, username, dept string, roles []string) *account {
	t.Helper()
	c := ctx(t)
	id, err := e.admin(t).CreateUser(c, wire.CreateUserRequest{Username: username, DisplayName: "User " + username,
		Password: password, DepartmentID: dept, Roles: roles})
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	a := &account{Client: e.newClient(t, ""), ID: id, Username: username, checked: e.now()}
	res := e.loginRetry(t, a.Client, username)
	if res.MFARequired {
		t.Fatalf("login %s: unexpected MFA challenge", username)
	}
	return a
}

// wait429 runs f again after a rate limit left by earlier scenarios
// (in-process by moving the clock; against a target by sleeping, at most
// twice, a minute each).
func (e *env) wait429(t *testing.T, f func() error) error {
	t.Helper()
	for attempt := 0; ; attempt++ {
		err := f()
		var ae *client.APIError
		if err == nil || !errors.As(err, &ae) || ae.Code != "rate_limited" || attempt >= 2 {
			return err
		}
		if e.srv != nil {
			e.cooldown(t)
		} else {
			time.Sleep(min(max(ae.RetryAfter, time.Second), 65*time.Second))
		}
	}
}

// loginRetry logs in with the password, waiting out a rate limit left by
// earlier scenarios (in-process by moving the clock; against a target by
// sleeping, at most twice the Retry-After of a minute).
func (e *env) loginRetry(t *testing.T, c *client.Client, username string) *wire.LoginResponse {
	t.Helper()
	for attempt := 0; ; attempt++ {
		res, err := c.Login(ctx(t), username, password)
		var ae *client.APIError
		if err != nil && errors.As(err, &ae) && ae.Code == "rate_limited" && attempt < 2 {
			if e.srv != nil {
				e.cooldown(t)
			} else {
				time.Sleep(min(max(ae.RetryAfter, time.Second), 65*time.Second))
			}
			continue
		}
		if err != nil {
			t.Fatalf("login %s: %v", username, err)
		}
		return res
	}
}

// auditor is an auditor with TOTP, made by bootstrap grant: it must exist
// before any security_admin does (secAdmin makes sure).
func (e *env) auditor(t *testing.T) *account {
	t.Helper()
	if e.aud == nil {
		e.aud = e.adminRole(t, "auditor")
	}
	return e.keep(t, e.aud)
}

// secAdmin is a security_admin with TOTP. Making one ends the bootstrap
// period, so the auditor is made first.
func (e *env) secAdmin(t *testing.T) *account {
	t.Helper()
	if e.sec == nil {
		e.auditor(t)
		e.sec = e.adminRole(t, "security_admin")
	}
	return e.keep(t, e.sec)
}

func (e *env) adminRole(t *testing.T, role string) *account {
	t.Helper()
	name := e.unique(strings.ReplaceAll(role, "_", ""))
	id, err := e.admin(t).CreateUser(ctx(t), wire.CreateUserRequest{Username: name, DisplayName: role + " " + name,
		Password: password, Roles: []string{role}})
	if err != nil {
		t.Fatalf("create %s: %v", role, err)
	}
	a := &account{Client: e.newClient(t, ""), ID: id, Username: name, checked: e.now()}
	e.loginAndEnrol(t, a)
	return a
}

// login opens a new session for a (a new device), with TOTP if enrolled.
func (e *env) login(t *testing.T, a *account) *client.Client {
	t.Helper()
	c := e.newClient(t, "")
	res := e.loginRetry(t, c, a.Username)
	if res.MFARequired {
		if _, err := c.CompleteMFA(ctx(t), res.MFAToken, "totp", e.totpCode(t, a.TOTPSecret)); err != nil {
			t.Fatalf("mfa %s: %v", a.Username, err)
		}
	}
	return c
}

// stepUp gives a's session a fresh second factor (A6).
func (e *env) stepUp(t *testing.T, a *account) {
	t.Helper()
	if err := e.wait429(t, func() error {
		_, err := a.StepUp(ctx(t), "totp", e.totpCode(t, a.TOTPSecret), "")
		return err
	}); err != nil {
		t.Fatalf("step-up %s: %v", a.Username, err)
	}
}

// conversation returns a conversation of the fixture users by key, made on
// first use: "alice-bob" (direct, with two messages), "alice-bob-group".
func (e *env) conversation(t *testing.T, key string) string {
	t.Helper()
	if id, ok := e.objs["conv:"+key]; ok {
		return id
	}
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	var id string
	var err error
	switch key {
	case "alice-bob":
		id, err = alice.CreateConversation(ctx(t), "direct", []string{bob.ID}, "")
		if err == nil {
			_, err = alice.Send(ctx(t), id, "seed-1", "SECRET-ALICE-TO-BOB")
		}
		if err == nil {
			_, err = bob.Send(ctx(t), id, "seed-2", "SECRET-BOB-TO-ALICE")
		}
	case "alice-bob-group":
		id, err = alice.CreateConversation(ctx(t), "group", []string{bob.ID}, "Engineering only")
		if err == nil {
			_, err = bob.Send(ctx(t), id, "seed-3", "SECRET-GROUP")
		}
	default:
		t.Fatalf("unknown conversation %q", key)
	}
	if err != nil {
		t.Fatalf("conversation %s: %v", key, err)
	}
	e.objs["conv:"+key] = id
	return id
}

// ---- audit trail, read as an auditor -------------------------------------

// auditMark is the sequence number of the newest audit record: records of
// an attack are those after it.
func (e *env) auditMark(t *testing.T) int64 {
	t.Helper()
	recs := e.auditAfter(t, 0)
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].Seq
}

// auditAfter reads every record after seq.
func (e *env) auditAfter(t *testing.T, seq int64) []wire.AuditRecord {
	t.Helper()
	aud := e.auditor(t)
	var out []wire.AuditRecord
	for i := 0; i < 100; i++ {
		page, err := aud.Audit(ctx(t), seq, 1000)
		if err != nil {
			t.Fatalf("reading the audit trail: %v", err)
		}
		out = append(out, page...)
		if len(page) < 1000 {
			break
		}
		seq = page[len(page)-1].Seq
	}
	return out
}

// expectAudit fails unless a record after mark satisfies match.
func (e *env) expectAudit(t *testing.T, mark int64, what string, match func(r wire.AuditRecord) bool) wire.AuditRecord {
	t.Helper()
	recs := e.auditAfter(t, mark)
	for _, r := range recs {
		if match(r) {
			return r
		}
	}
	var seen []string
	for _, r := range recs {
		seen = append(seen, r.Action+"/"+r.Result+" "+r.Reason)
	}
	t.Fatalf("no audit record of %s after seq %d; records: %q", what, mark, seen)
	return wire.AuditRecord{}
}

func action(a, result string) func(wire.AuditRecord) bool {
	return func(r wire.AuditRecord) bool { return r.Action == a && r.Result == result }
}

// ---- raw HTTPS -------------------------------------------------------------

// reply is a raw response.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
	Err    wire.ErrorDetail // for status >= 400
}

func (r *reply) String() string {
	return fmt.Sprintf("%d %s %.300q", r.Status, r.Err.Code, r.Body)
}

// req is a raw request.
type req struct {
	method, path string
	token        string
	body         []byte
	header       map[string]string
	http1        bool
	// redirectOK tolerates net/http's own redirect of an unclean path
	// (an HTML body, checked by the caller).
	redirectOK bool
}

// do sends a raw request and checks the invariants of every answer: no 5xx,
// the security headers, JSON error bodies in the documented shape.
func (e *env) do(t *testing.T, r req) *reply {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	hr, err := http.NewRequestWithContext(ctx(t), r.method, e.url+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		if strings.EqualFold(k, "Host") {
			hr.Host = v
			continue
		}
		hr.Header.Set(k, v)
	}
	hc := e.https
	if r.http1 {
		hc = e.http1
	}
	resp, err := hc.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	out := &reply{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if r.redirectOK && (out.Status == http.StatusTemporaryRedirect || out.Status == http.StatusMovedPermanently) {
		return out
	}
	checkInvariants(t, r.method+" "+truncate(r.path, 80), out)
	return out
}

// checkInvariants are what every answer must hold, whatever the attack.
func checkInvariants(t *testing.T, what string, r *reply) {
	t.Helper()
	if r.Status >= 500 && r.Status != http.StatusServiceUnavailable {
		t.Errorf("%s: server error %d: %.200q", what, r.Status, r.Body)
	}
	h := r.Header
	if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: security headers missing: XFO=%q CSP=%q nosniff=%q", what, h.Get("X-Frame-Options"),
			h.Get("Content-Security-Policy"), h.Get("X-Content-Type-Options"))
	}
	if h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("%s: CORS headers in an answer: %v", what, h)
	}
	if h.Get("Set-Cookie") != "" {
		t.Errorf("%s: the API set a cookie: %q", what, h.Get("Set-Cookie"))
	}
	if len(r.Body) > 0 && !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("%s: answer of type %q, want JSON: %.100q", what, h.Get("Content-Type"), r.Body)
	}
	if r.Status >= 400 {
		var eb wire.ErrorBody
		if err := json.Unmarshal(r.Body, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Errorf("%s: status %d without the API error shape: %.200q", what, r.Status, r.Body)
		}
		r.Err = eb.Error
	}
}

// expect fails unless the reply has the status and error code.
func expect(t *testing.T, r *reply, status int, code string) {
	t.Helper()
	if r.Status != status || r.Err.Code != code {
		t.Fatalf("got %s, want %d %q", r, status, code)
	}
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ---- raw WebSocket -----------------------------------------------------------

// dialWS opens a raw WebSocket with token and extra headers; the caller
// checks err/resp for refusals.
func (e *env) dialWS(t *testing.T, token string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	for k, v := range hdr {
		h[k] = v
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	ws, resp, err := websocket.Dial(ctx(t), "wss://"+e.host+"/api/v1/ws", &websocket.DialOptions{HTTPClient: e.http1, HTTPHeader: h})
	if ws != nil {
		ws.SetReadLimit(1 << 20)
		t.Cleanup(func() { _ = ws.CloseNow() })
	}
	return ws, resp, err
}

// mustWS opens a WebSocket that must be accepted.
func (e *env) mustWS(t *testing.T, token string) *websocket.Conn {
	t.Helper()
	ws, resp, err := e.dialWS(t, token, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	return ws
}

// refusedWS fails unless the upgrade is refused with status (and the
// refusal carries the error shape and security headers).
func (e *env) refusedWS(t *testing.T, token string, hdr http.Header, status int, code string) {
	t.Helper()
	ws, resp, err := e.dialWS(t, token, hdr)
	if err == nil || ws != nil {
		t.Fatalf("upgrade accepted, want %d %s", status, code)
	}
	if resp == nil {
		t.Fatalf("upgrade failed without an answer: %v", err)
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	r := &reply{Status: resp.StatusCode, Header: resp.Header, Body: data}
	checkInvariants(t, "GET /api/v1/ws", r)
	expect(t, r, status, code)
}

func wsWrite(t *testing.T, ws *websocket.Conn, frame string) {
	t.Helper()
	if err := ws.Write(ctx(t), websocket.MessageText, []byte(frame)); err != nil {
		t.Fatalf("write %q: %v", truncate(frame, 80), err)
	}
}

// wsRead reads one frame within d; ok is false on timeout.
func wsRead(t *testing.T, ws *websocket.Conn, d time.Duration) (f wire.ServerFrame, ok bool, err error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, data, err := ws.Read(c)
	if err != nil {
		if c.Err() != nil {
			return f, false, nil
		}
		return f, false, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("frame %q: %v", data, err)
	}
	return f, true, nil
}

// wsNext reads frames until one of type typ (failing on close or timeout),
// returning the frames skipped.
func wsNext(t *testing.T, ws *websocket.Conn, typ string) (wire.ServerFrame, []wire.ServerFrame) {
	t.Helper()
	var skipped []wire.ServerFrame
	for i := 0; i < 100; i++ {
		f, ok, err := wsRead(t, ws, 10*time.Second)
		if err != nil || !ok {
			t.Fatalf("waiting for %q: %v (timeout %v), skipped %+v", typ, err, !ok, skipped)
		}
		if f.Type == typ {
			return f, skipped
		}
		skipped = append(skipped, f)
	}
	t.Fatalf("no %q frame in 100", typ)
	return wire.ServerFrame{}, nil
}

// wsClosed waits (bounded) for the server to close ws and returns the code.
func wsClosed(t *testing.T, ws *websocket.Conn, within time.Duration) websocket.StatusCode {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		_, _, err := wsRead(t, ws, time.Until(deadline))
		if err != nil {
			return websocket.CloseStatus(err)
		}
	}
	t.Fatalf("connection still open after %v", within)
	return 0
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
