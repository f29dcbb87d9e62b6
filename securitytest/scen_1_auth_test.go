package securitytest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

func init() {
	register("Authentication, brute force and sessions",
		scenario{ID: "I1", Name: "login-brute-force-one-account-429-Retry-After", Needs: accounts | isolated,
			Attack: "Guess one account's password repeatedly: 429 rate_limited with Retry-After, the right password gets no session meanwhile, other accounts from the same address still log in, the refusal is audited",
			Run:    bruteForceOneAccount},
		scenario{ID: "I1", Name: "password-spraying-from-one-address-429", Needs: accounts | isolated,
			Attack: "Try one password against many usernames from one address: 429 rate_limited for every account (per-IP bucket), audited",
			Run:    passwordSpraying},
		scenario{ID: "A9", Name: "user-enumeration-by-status-and-body", Needs: accounts | throttles,
			Attack: "Log in as an unknown user, a known user with a wrong password and a known user in another case: same status, same body, same headers",
			Run:    enumerationStatusBody},
		scenario{ID: "A9", Name: "user-enumeration-timing-sample", Needs: accounts | isolated,
			Attack: "Time failed logins of known and unknown users: medians are logged for review, never asserted (argon2id runs for both)",
			Run:    enumerationTiming},
		scenario{ID: "A9", Name: "MFA-error-does-not-say-which-factor-failed", Needs: accounts | throttles,
			Attack: "Send a wrong TOTP code and a wrong recovery code to a pending login: identical 401 answers",
			Run:    mfaErrorsAlike},
		scenario{ID: "A1", Name: "TOTP-code-replay", Needs: accounts | throttles,
			Attack: "Reuse a TOTP code that already completed a login (and the enrolment code): 401, audited as an MFA failure",
			Run:    totpReplay},
		scenario{ID: "A1", Name: "recovery-code-reuse", Needs: accounts | throttles,
			Attack: "Use a recovery code a second time: 401, audited",
			Run:    recoveryReuse},
		scenario{ID: "A9", Name: "MFA-code-guessing-voids-the-pending-login", Needs: accounts | throttles,
			Attack: "Guess TOTP codes on one pending login: after the attempt limit even the right code is refused (401)",
			Run:    mfaGuessing},
		scenario{ID: "A9", Name: "MFA-skip-pre-MFA-token-on-REST", Needs: accounts,
			Attack: "Use the mfa_token of a password-only login as a session on REST routes: 401 everywhere",
			Run:    mfaSkipREST},
		scenario{ID: "A9", Name: "MFA-skip-pre-MFA-token-on-WebSocket", Needs: accounts,
			Attack: "Open the WebSocket with the pre-MFA token: 401 before any upgrade",
			Run:    mfaSkipWS},
		scenario{ID: "A9", Name: "pre-MFA-token-expires-after-5-minutes", Needs: accounts | isolated | inProcess,
			Attack: "Finish a password-only login with a valid code after 5 minutes: 401",
			Run:    pendingExpiry},
		scenario{ID: "A2", Name: "MFA-enrolment-gate-on-REST-and-WebSocket", Needs: accounts,
			Attack: "A new administrator who has not enrolled MFA calls ordinary routes and opens the WebSocket: 403 mfa_enrollment_required",
			Run:    enrolmentGate},
		scenario{ID: "A4", Name: "setup-token-reuse", Needs: accounts | throttles,
			Attack: "Replay the one-time setup token after setup: 401, no account created, audited",
			Run:    setupReuse},
		scenario{ID: "A4", Name: "setup-token-brute-force", Needs: isolated,
			Attack: "Guess setup tokens: 401 then 429 with Retry-After; no guess succeeds and the real token still works afterwards",
			Run:    setupBruteForce},
		scenario{ID: "A5", Name: "session-fixation-token-before-MFA-enrolment-dead-after", Needs: accounts,
			Attack: "Keep the session token (and an open WebSocket) from before MFA enrolment: dead after it (401, socket closed 1008), other sessions too",
			Run:    sessionFixation},
		scenario{ID: "A5", Name: "logout-closes-open-WebSockets", Needs: accounts,
			Attack: "Log out while a WebSocket of the session is open: closed at once with 1008, token dead, audited",
			Run:    logoutClosesWS},
		scenario{ID: "A5", Name: "revocation-closes-open-WebSockets", Needs: accounts,
			Attack: "Revoke a session from another device: its WebSocket closes with 1008, its token is dead, the revoking device works, audited",
			Run:    revokeClosesWS},
		scenario{ID: "A5", Name: "idle-timeout-expires-session-and-WebSocket", Needs: accounts | isolated | inProcess,
			Options: func(*testing.T) []parleytest.ServerOption {
				c := httpapi.DefaultConfig()
				c.WSRevalidate = 100 * time.Millisecond
				return []parleytest.ServerOption{parleytest.WithHTTPConfig(c)}
			},
			Attack: "Leave a session idle for 15 minutes (clock advanced): REST 401 and the open WebSocket closes with 1008",
			Run:    idleTimeout},
		scenario{ID: "A5", Name: "absolute-lifetime-ends-an-active-session", Needs: accounts | isolated | inProcess,
			Attack: "Keep a session busy every 10 minutes past its absolute lifetime (12 h): 401",
			Run:    absoluteLifetime},
		scenario{ID: "A5", Name: "tampered-and-forged-tokens", Needs: accounts,
			Attack: "Present a valid token with one character changed, truncated, extended, a JWT with alg none, SQL: 401 with WWW-Authenticate",
			Run:    tamperedTokens},
		scenario{ID: "A5", Name: "foreign-token-from-another-deployment", Needs: accounts,
			Attack: "Present a valid session token of another Parley server: 401",
			Run:    foreignToken},
		scenario{ID: "A5", Name: "credentials-outside-the-Authorization-header", Needs: accounts,
			Attack: "Send a valid token as Basic auth, in the query string, in X-Auth-Token, as a scheme other than Bearer: 401",
			Run:    tokenPlacement},
	)
}

// loginStatus tries one login and returns the raw reply.
func (e *env) loginRaw(t *testing.T, username, pw string, hdr map[string]string) *reply {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: jsonBody(t, wire.LoginRequest{Username: username, Password: pw}), header: hdr})
}

func bruteForceOneAccount(t *testing.T, e *env) {
	victim := e.fresh(t, "victim")
	bystander := e.fresh(t, "bystander")
	mark := e.auditMark(t)
	var last *reply
	for i := 0; i < 25; i++ {
		last = e.loginRaw(t, victim.Username, fmt.Sprintf("Wrong-Guess-%02d!", i), nil)
		if last.Status == http.StatusTooManyRequests {
			break
		}
		if last.Status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %s", i, last)
		}
	}
	expect(t, last, 429, "rate_limited")
	if ra := last.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("429 without Retry-After: %v", last.Header)
	}
	if r := e.loginRaw(t, victim.Username, password, nil); r.Status == 200 {
		t.Fatalf("the right password got a session during the block: %s", r)
	}
	if e.srv != nil { // against a target other scenarios share the address's bucket
		if r := e.loginRaw(t, bystander.Username, password, nil); r.Status != 200 {
			t.Fatalf("another account from the same address is blocked too: %s", r)
		}
	}
	e.expectAudit(t, mark, "a rate-limited login", func(r wire.AuditRecord) bool {
		return r.Action == "auth.login" && r.Result == "denied" && r.ActorName == victim.Username
	})
}

func passwordSpraying(t *testing.T, e *env) {
	real := e.fresh(t, "sprayed")
	mark := e.auditMark(t)
	var last *reply
	for i := 0; i < 40; i++ {
		last = e.loginRaw(t, e.unique("spray"), "Summer-2026-Spray!", nil)
		if last.Status == http.StatusTooManyRequests {
			break
		}
	}
	expect(t, last, 429, "rate_limited")
	if last.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	expect(t, e.loginRaw(t, real.Username, password, nil), 429, "rate_limited")
	e.expectAudit(t, mark, "a rate-limited login", action("auth.login", "denied"))
}

func enumerationStatusBody(t *testing.T, e *env) {
	alice := e.fresh(t, "enum") // failures count towards a lockout: not a fixture
	cases := map[string]*reply{
		"unknown user":              e.loginRaw(t, "nobody-"+e.unique("x"), "Wrong-Password-1!", nil),
		"known user, wrong pw":      e.loginRaw(t, alice.Username, "Wrong-Password-1!", nil),
		"known user, other case":    e.loginRaw(t, strings.ToUpper(alice.Username), "Wrong-Password-1!", nil),
		"known user, empty pw":      e.loginRaw(t, alice.Username, "", nil),
		"unknown user, empty pw":    e.loginRaw(t, "nobody-"+e.unique("y"), "", nil),
		"known user, oversize pw":   e.loginRaw(t, alice.Username, strings.Repeat("A1a!", 300), nil),
		"unknown user, oversize pw": e.loginRaw(t, "nobody-"+e.unique("z"), strings.Repeat("A1a!", 300), nil),
	}
	var ref *reply
	var refName string
	for name, r := range cases {
		if r.Status == 429 {
			t.Skipf("rate limited before the comparison (%s)", name)
		}
		if ref == nil {
			ref, refName = r, name
			continue
		}
		if r.Status != ref.Status || string(r.Body) != string(ref.Body) || !sameHeaderNames(r.Header, ref.Header) {
			t.Errorf("%q answers %s, %q answers %s", name, r, refName, ref)
		}
	}
	if ref.Status != 401 {
		t.Errorf("failed logins answer %s, want 401", ref)
	}
}

func sameHeaderNames(a, b http.Header) bool {
	names := func(h http.Header) []string {
		var out []string
		for k := range h {
			if k != "Date" && k != "Content-Length" {
				out = append(out, k)
			}
		}
		sort.Strings(out)
		return out
	}
	return slices.Equal(names(a), names(b))
}

func enumerationTiming(t *testing.T, e *env) {
	alice := e.user(t, "alice")
	const n = 7
	measure := func(name string) time.Duration {
		var ds []time.Duration
		for i := 0; i < n; i++ {
			start := time.Now()
			r := e.loginRaw(t, name, fmt.Sprintf("Wrong-Timing-%d!", i), nil)
			ds = append(ds, time.Since(start))
			if r.Status == 429 {
				break
			}
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	known, unknown := measure(alice.Username), measure("ghost-"+e.unique("t"))
	t.Logf("median failed-login time: known user %v, unknown user %v (logged only; argon2id runs for both)", known, unknown)
}

// freshMFA makes a throwaway user with TOTP enrolled.
func (e *env) freshMFA(t *testing.T, prefix string) *account {
	t.Helper()
	u := e.fresh(t, prefix)
	enr, err := u.EnrollTOTP(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	u.TOTPSecret = enr.Secret
	conf, err := u.ConfirmTOTP(ctx(t), e.totpCode(t, enr.Secret))
	if err != nil {
		t.Fatal(err)
	}
	u.Recovery = conf.RecoveryCodes
	return u
}

// pending starts a password-only login of u and returns its mfa_token.
func (e *env) pending(t *testing.T, u *account) string {
	t.Helper()
	res := e.loginRetry(t, e.newClient(t, ""), u.Username)
	if !res.MFARequired || res.MFAToken == "" || res.Token != "" {
		t.Fatalf("login %s: %+v; want an MFA challenge", u.Username, res)
	}
	return res.MFAToken
}

func (e *env) mfaRaw(t *testing.T, mfaToken, method, code string) *reply {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/v1/auth/mfa", body: jsonBody(t, wire.MFARequest{MFAToken: mfaToken, Method: method, Code: code})})
}

func mfaErrorsAlike(t *testing.T, e *env) {
	u := e.freshMFA(t, "factors")
	tok := e.pending(t, u)
	a := e.mfaRaw(t, tok, "totp", "000000")
	b := e.mfaRaw(t, tok, "recovery_code", "aaaa-bbbb-cccc-dddd")
	if a.Status != 401 || a.Status != b.Status || string(a.Body) != string(b.Body) {
		t.Fatalf("wrong TOTP answers %s, wrong recovery code answers %s", a, b)
	}
}

func totpReplay(t *testing.T, e *env) {
	u := e.fresh(t, "replay")
	enr, err := u.EnrollTOTP(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	u.TOTPSecret = enr.Secret
	enrolCode := e.totpCode(t, enr.Secret)
	if _, err := u.ConfirmTOTP(ctx(t), enrolCode); err != nil {
		t.Fatal(err)
	}
	code := e.totpCode(t, u.TOTPSecret)
	if r := e.mfaRaw(t, e.pending(t, u), "totp", code); r.Status != 200 {
		t.Fatalf("first use of the code: %s", r)
	}
	mark := e.auditMark(t)
	expect(t, e.mfaRaw(t, e.pending(t, u), "totp", code), 401, "unauthenticated")
	expect(t, e.mfaRaw(t, e.pending(t, u), "totp", enrolCode), 401, "unauthenticated")
	e.expectAudit(t, mark, "the replayed code", func(r wire.AuditRecord) bool {
		return r.Action == "auth.mfa" && r.Result == "failure" && r.ActorID == u.ID
	})
}

func recoveryReuse(t *testing.T, e *env) {
	u := e.freshMFA(t, "recovery")
	rc := u.Recovery[0]
	if r := e.mfaRaw(t, e.pending(t, u), "recovery_code", rc); r.Status != 200 {
		t.Fatalf("first use of the recovery code: %s", r)
	}
	mark := e.auditMark(t)
	expect(t, e.mfaRaw(t, e.pending(t, u), "recovery_code", rc), 401, "unauthenticated")
	e.expectAudit(t, mark, "the reused recovery code", func(r wire.AuditRecord) bool {
		return r.Action == "auth.mfa" && r.Result == "failure" && r.ActorID == u.ID
	})
}

func mfaGuessing(t *testing.T, e *env) {
	u := e.freshMFA(t, "guess")
	tok := e.pending(t, u)
	for i := 0; i < 5; i++ {
		r := e.mfaRaw(t, tok, "totp", fmt.Sprintf("%06d", 100000+i*7919))
		if r.Status != 401 && r.Status != 429 {
			t.Fatalf("guess %d: %s", i, r)
		}
	}
	if r := e.mfaRaw(t, tok, "totp", e.totpCode(t, u.TOTPSecret)); r.Status == 200 {
		t.Fatalf("the pending login survived 5 wrong codes: %s", r)
	}
}

func mfaSkipREST(t *testing.T, e *env) {
	u := e.freshMFA(t, "skip")
	tok := e.pending(t, u)
	for _, rq := range []req{
		{method: "GET", path: "/api/v1/me"},
		{method: "GET", path: "/api/v1/conversations"},
		{method: "GET", path: "/api/v1/sessions"},
		{method: "GET", path: "/api/v1/users?q=a"},
		{method: "POST", path: "/api/v1/conversations", body: []byte(`{"type":"group","member_ids":["` + u.ID + `"],"title":"x"}`)},
		{method: "POST", path: "/api/v1/auth/totp/enroll", body: []byte(`{}`)},
		{method: "POST", path: "/api/v1/auth/step-up", body: []byte(`{"method":"password","password":"` + password + `"}`)},
		{method: "POST", path: "/api/v1/auth/logout", body: []byte(`{}`)},
	} {
		rq.token = tok
		r := e.do(t, rq)
		if r.Status != 401 || r.Err.Code != "unauthenticated" {
			t.Errorf("%s %s with the pre-MFA token: %s", rq.method, rq.path, r)
		}
	}
	// The pending login itself is unharmed (it was not a session).
	if r := e.mfaRaw(t, tok, "totp", e.totpCode(t, u.TOTPSecret)); r.Status != 200 {
		t.Fatalf("completing the login afterwards: %s", r)
	}
}

func mfaSkipWS(t *testing.T, e *env) {
	u := e.freshMFA(t, "wsskip")
	e.refusedWS(t, e.pending(t, u), nil, 401, "unauthenticated")
}

func pendingExpiry(t *testing.T, e *env) {
	u := e.freshMFA(t, "late")
	tok := e.pending(t, u)
	e.advance(t, 5*time.Minute+time.Second)
	expect(t, e.mfaRaw(t, tok, "totp", e.totpCode(t, u.TOTPSecret)), 401, "unauthenticated")
}

func enrolmentGate(t *testing.T, e *env) {
	u := e.createUser(t, e.unique("deptadmin"), "", []string{"department_admin"})
	for _, rq := range []req{
		{method: "GET", path: "/api/v1/conversations"},
		{method: "GET", path: "/api/v1/users"},
		{method: "GET", path: "/api/v1/sessions"},
		{method: "POST", path: "/api/v1/conversations", body: []byte(`{"type":"direct","member_ids":["` + e.user(t, "alice").ID + `"]}`)},
	} {
		rq.token = u.Token()
		expect(t, e.do(t, rq), 403, "mfa_enrollment_required")
	}
	e.refusedWS(t, u.Token(), nil, 403, "mfa_enrollment_required")
	if cs, err := e.user(t, "alice").Conversations(ctx(t)); err == nil {
		for _, c := range cs {
			if slices.Contains(c.MemberIDs, u.ID) {
				t.Fatalf("a conversation was created by the gated user: %+v", c)
			}
		}
	}
}

func setupReuse(t *testing.T, e *env) {
	e.admin(t)
	mark := e.auditMark(t)
	name := e.unique("second-admin")
	r := e.do(t, req{method: "POST", path: "/api/v1/setup", body: jsonBody(t, wire.SetupRequest{SetupToken: e.setupToken,
		Username: name, Password: password, DisplayName: "Second Admin"})})
	expect(t, r, 401, "unauthenticated")
	if users, err := e.admin(t).Users(ctx(t), name); err != nil || len(users) != 0 {
		t.Fatalf("search after the replay: %+v, %v", users, err)
	}
	e.expectAudit(t, mark, "the refused setup", action("setup", "failure"))
}

func setupBruteForce(t *testing.T, e *env) {
	var last *reply
	for i := 0; i < 40; i++ {
		var b [16]byte
		for j := range b {
			b[j] = byte(i*31 + j*7)
		}
		last = e.do(t, req{method: "POST", path: "/api/v1/setup", body: jsonBody(t, wire.SetupRequest{
			SetupToken: base64.RawURLEncoding.EncodeToString(b[:]), Username: "intruder", Password: password, DisplayName: "Intruder"})})
		if last.Status == 429 {
			break
		}
		if last.Status != 401 {
			t.Fatalf("guess %d: %s", i, last)
		}
	}
	expect(t, last, 429, "rate_limited")
	if last.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	if e.srv == nil {
		return // a target was set up by the suite already; nothing more to prove
	}
	// The guesses spent nothing: once the block passes, the real token works.
	e.advance(t, 2*time.Minute)
	admin := e.admin(t)
	mark := int64(0)
	recs := e.auditAfter(t, mark)
	failures := 0
	for _, r := range recs {
		if r.Action == "setup" && r.Result == "failure" {
			failures++
		}
		if r.ActorName == "intruder" && r.Result == "success" {
			t.Fatalf("a guess succeeded: %+v", r)
		}
	}
	if failures == 0 || admin.ID == "" {
		t.Fatalf("%d setup failures audited", failures)
	}
}

func sessionFixation(t *testing.T, e *env) {
	u := e.fresh(t, "fixation")
	before := u.Token()
	other := e.login(t, u)
	ws := e.mustWS(t, before)
	enr, err := u.EnrollTOTP(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := u.ConfirmTOTP(ctx(t), e.totpCode(t, enr.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if conf.Token == "" || conf.Token == before {
		t.Fatal("enrolment did not replace the session token")
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: before}), 401, "unauthenticated")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: other.Token()}), 401, "unauthenticated")
	if code := wsClosed(t, ws, 5*time.Second); code != websocket.StatusPolicyViolation {
		t.Fatalf("the old session's WebSocket closed with %d, want 1008", code)
	}
	if r := e.do(t, req{method: "GET", path: "/api/v1/me", token: conf.Token}); r.Status != 200 {
		t.Fatalf("the new token: %s", r)
	}
}

func logoutClosesWS(t *testing.T, e *env) {
	u := e.fresh(t, "logout")
	tok := u.Token()
	ws := e.mustWS(t, tok)
	ws2 := e.mustWS(t, tok)
	mark := e.auditMark(t)
	if err := u.Logout(ctx(t)); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*websocket.Conn{ws, ws2} {
		if code := wsClosed(t, w, 5*time.Second); code != websocket.StatusPolicyViolation {
			t.Fatalf("after logout the WebSocket closed with %d, want 1008", code)
		}
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: tok}), 401, "unauthenticated")
	e.refusedWS(t, tok, nil, 401, "unauthenticated")
	e.expectAudit(t, mark, "the logout", func(r wire.AuditRecord) bool {
		return r.Action == "auth.logout" && r.ActorID == u.ID
	})
}

func revokeClosesWS(t *testing.T, e *env) {
	u := e.fresh(t, "revoke")
	phone := u.Token()
	desk := e.login(t, u)
	ws := e.mustWS(t, phone)
	sessions, err := desk.Sessions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var phoneID string
	for _, s := range sessions {
		if !s.Current {
			phoneID = s.SessionID
		}
	}
	if phoneID == "" || len(sessions) != 2 {
		t.Fatalf("sessions: %+v", sessions)
	}
	mark := e.auditMark(t)
	if err := desk.RevokeSession(ctx(t), phoneID); err != nil {
		t.Fatal(err)
	}
	if code := wsClosed(t, ws, 5*time.Second); code != websocket.StatusPolicyViolation {
		t.Fatalf("the revoked session's WebSocket closed with %d, want 1008", code)
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: phone}), 401, "unauthenticated")
	if _, err := desk.Me(ctx(t)); err != nil {
		t.Fatalf("the revoking device: %v", err)
	}
	e.expectAudit(t, mark, "the revocation", func(r wire.AuditRecord) bool {
		return r.Action == "auth.session_revoke" && r.Target == phoneID
	})
}

func idleTimeout(t *testing.T, e *env) {
	u := e.fresh(t, "idle")
	ws := e.mustWS(t, u.Token())
	e.advance(t, 15*time.Minute+time.Second)
	if code := wsClosed(t, ws, 5*time.Second); code != websocket.StatusPolicyViolation {
		t.Fatalf("the idle session's WebSocket closed with %d, want 1008", code)
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: u.Token()}), 401, "unauthenticated")
}

func absoluteLifetime(t *testing.T, e *env) {
	u := e.fresh(t, "marathon")
	for i := 0; i < 12*6+2; i++ {
		e.advance(t, 10*time.Minute)
		r := e.do(t, req{method: "GET", path: "/api/v1/me", token: u.Token()})
		if r.Status == 401 {
			if elapsed := time.Duration(i+1) * 10 * time.Minute; elapsed < 12*time.Hour {
				t.Fatalf("an active session ended after only %v", elapsed)
			}
			return
		}
	}
	t.Fatal("a session kept busy lived past 12 hours")
}

func tamperedTokens(t *testing.T, e *env) {
	u := e.user(t, "alice")
	tok := u.Token()
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for name, bad := range map[string]string{
		"last char changed":  flip(tok, len(tok)-1),
		"first char changed": flip(tok, 0),
		"truncated":          tok[:len(tok)-2],
		"extended":           tok + "A",
		"doubled":            tok + tok,
		"upper-cased":        strings.ToUpper(tok),
		"JWT alg none":       "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiIsInJvbGVzIjpbInN5c3RlbV9hZG1pbiJdfQ.",
		"SQL":                "' OR '1'='1",
		"NUL inside":         tok[:8] + "%00" + tok[8:],
		"oversize":           strings.Repeat(tok, 40),
	} {
		if bad == tok {
			continue
		}
		r := e.do(t, req{method: "GET", path: "/api/v1/me", token: bad})
		if r.Status != 401 || r.Err.Code != "unauthenticated" || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %s", name, r)
		}
	}
	if r := e.do(t, req{method: "GET", path: "/api/v1/me", token: tok}); r.Status != 200 {
		t.Fatalf("the genuine token stopped working: %s", r)
	}
}

func foreignToken(t *testing.T, e *env) {
	// A genuine token of another deployment: this suite's own in-process
	// server (against a target too).
	other := parleytest.NewServer(t)
	tok := other.SetupAdmin(ctx(t)).Token()
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: tok}), 401, "unauthenticated")
	e.refusedWS(t, tok, nil, 401, "unauthenticated")
}

func tokenPlacement(t *testing.T, e *env) {
	tok := e.user(t, "alice").Token()
	basic := base64.StdEncoding.EncodeToString([]byte(e.user(t, "alice").Username + ":" + password))
	for name, rq := range map[string]req{
		"Basic credentials":     {header: map[string]string{"Authorization": "Basic " + basic}},
		"Basic token":           {header: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(tok))}},
		"Token scheme":          {header: map[string]string{"Authorization": "Token " + tok}},
		"no scheme":             {header: map[string]string{"Authorization": tok}},
		"scheme only":           {header: map[string]string{"Authorization": "Bearer"}},
		"access_token query":    {path: "?access_token=" + tok},
		"token query":           {path: "?token=" + tok},
		"X-Auth-Token":          {header: map[string]string{"X-Auth-Token": tok}},
		"X-Access-Token":        {header: map[string]string{"X-Access-Token": tok}},
		"Proxy-Authorization":   {header: map[string]string{"Proxy-Authorization": "Bearer " + tok}},
		"session cookie":        {header: map[string]string{"Cookie": "session=" + tok}},
		"X-Forwarded-User":      {header: map[string]string{"X-Forwarded-User": e.admin(t).Username, "X-Remote-User": e.admin(t).Username}},
		"Bearer token (comma)":  {header: map[string]string{"Authorization": "Bearer x, Bearer " + tok}},
		"Bearer in second line": {header: map[string]string{"Authorization": "Bearer"}},
	} {
		r := e.do(t, req{method: "GET", path: "/api/v1/me" + rq.path, header: rq.header})
		if r.Status != 401 && r.Status != 400 {
			t.Errorf("%s: %s, want 401", name, r)
		}
	}
}
