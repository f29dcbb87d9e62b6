package securitytest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/descope/virtualwebauthn"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// Attacks on the identity features (issue 5): account lockout, password
// policy and expiry, passkeys, one-time codes, push approval and step-up.
// Each drives the feature as an attacker would — with a guessed or phished
// password, a stolen session token, a captured assertion or code, another
// account — and checks that it gets nowhere and leaves things as they were.

func init() {
	register("Identity: lockout, passwords, passkeys, one-time codes, push approval, step-up",
		scenario{ID: "A3", Name: "lockout-after-5-failures-refuses-the-right-password", Needs: accounts | throttles,
			Attack: "Guess an account's password 5 times, then send the right one (from an address that never signed in to it, and as another device): the same 401 as a wrong password, no session; the lock and the refusal audited",
			Run:    lockoutRightPassword},
		scenario{ID: "A9", Name: "lockout-of-unknown-name-answers-alike", Needs: accounts | throttles,
			Attack: "Lock a name that has no account and a real account alike: every answer identical in status, body and headers (no oracle), both locks audited",
			Run:    lockoutUnknownName},
		scenario{ID: "A3", Name: "lockout-not-extended-by-guesses-during-it", Needs: accounts | isolated | inProcess,
			Attack: "Keep guessing during a lock: refused and not counted, so the lock ends 30 minutes after it began (once) and the owner is told at the next login",
			Run:    lockoutNotExtended},
		scenario{ID: "A9", Name: "unlock-by-ordinary-user-or-without-step-up", Needs: accounts | isolated | inProcess,
			Attack: "Lift a lock as an ordinary user (403, audited) and as an administrator with a stale second factor (403 step_up_required): still locked; with step-up it lifts, audited",
			Run:    unlockNeedsStepUp},
		scenario{ID: "A3", Name: "password-change-to-breached-personal-or-weak-password", Needs: accounts | throttles,
			Attack: "Change a password to a breached one, one containing the username or organisation name, a short one, one missing a character class: 400 naming the rule, never echoing the password (answer or audit), the old password still the one",
			Run:    passwordWeak},
		scenario{ID: "A3", Name: "password-reuse-of-the-last-5", Needs: accounts | throttles,
			Attack: "After 5 changes, change back to each of the last 5 passwords: 400 invalid, the current password unchanged (the 6th-oldest is accepted)",
			Run:    passwordReuse},
		scenario{ID: "A6", Name: "password-change-from-a-stolen-session", Needs: accounts | throttles,
			Attack: "With a stolen session token, change the password without step-up (403 step_up_required), step up with a guess (401, audited), and with a fresh step-up but a wrong current password (403, audited): unchanged",
			Run:    passwordStolenSession},
		scenario{ID: "A3", Name: "expired-password-session-reaches-only-me-logout-and-change", Needs: accounts | isolated | inProcess,
			Attack: "Sign in with a password 90 days old and call every other operation and the WebSocket: 403 password_change_required; a wrong current or breached new password changes nothing",
			Run:    passwordExpiredSession},
		scenario{ID: "A1", Name: "passkey-assertion-replay", Needs: accounts | throttles,
			Attack: "Replay a captured passkey assertion on its own finished login, on a new login and on a finished step-up: the one uniform 401, audited, the session not replaced",
			Run:    passkeyReplay},
		scenario{ID: "A1", Name: "passkey-of-another-user", Needs: accounts | throttles,
			Attack: "Answer a user's login challenge with another user's passkey, and register a user's passkey into another account: 401 and 400, nothing stored, both audited",
			Run:    passkeyOtherUser},
		scenario{ID: "A1", Name: "passkey-sign-counter-regression-cloned-authenticator", Needs: accounts | throttles,
			Attack: "Sign in with a copy of a passkey whose counter is behind (and equal to) the stored one: 401, audited as a suspected clone; the genuine authenticator still works",
			Run:    passkeyClone},
		scenario{ID: "A1", Name: "passkey-phishing-origin-and-RP-ID", Needs: accounts | throttles,
			Attack: "Relay a login challenge through a phishing origin, another port and a foreign RP ID: the one uniform 401 for each, audited",
			Run:    passkeyPhishing},
		scenario{ID: "Z6", Name: "IDOR-delete-another-users-passkey", Needs: accounts,
			Attack: "DELETE another user's passkey by its ID (with a fresh step-up): 404 like a nonexistent ID; the passkey still listed and still signs its owner in",
			Run:    passkeyDeleteIDOR},
		scenario{ID: "A6", Name: "passkey-step-up-answer-on-another-users-session", Needs: accounts | throttles,
			Attack: "Finish a step-up with another user's passkey, and with an assertion captured from another user's step-up: 401 unauthenticated, audited, the session not replaced; the victim's own step-up unharmed",
			Run:    passkeyStepUpCrossUser},
		mailbox(scenario{ID: "A1", Name: "one-time-code-reuse",
			Attack: "Use an e-mail code again on the login it finished and on a new login (before and after that login gets its own code): 401, audited"},
			codeReuse),
		mailbox(scenario{ID: "A1", Name: "one-time-code-guessing-burns-the-code",
			Attack: "Guess a step-up code 5 times: then the right code is refused too, the session stays without step-up, the reason audited"},
			codeGuessing),
		mailbox(scenario{ID: "A1", Name: "one-time-code-of-another-user-or-purpose",
			Attack: "Finish a user's login with another user's code, and a login with a step-up code: 401, audited; the owners' own codes still work"},
			codeCrossUser),
		mailbox(scenario{ID: "A6", Name: "redirect-one-time-codes-from-a-stolen-session",
			Attack: "With a stolen session, point the victim's codes at another address or drop them (step_up_required; a password is no step-up), or set them as another ordinary user (403, audited): codes still go to the victim"},
			codeRedirect),
		scenario{ID: "A1", Name: "push-wrong-number-denies-and-voids-the-login", Needs: accounts,
			Attack: "Approve a push request with the wrong number (MFA fatigue): 403, the request denied and the pending login void (poll, right number and TOTP all refused), audited",
			Run:    pushWrongNumber},
		scenario{ID: "Z6", Name: "push-approval-from-another-users-session", Needs: accounts,
			Attack: "Approve or deny another user's push request by its ID: 404 like a nonexistent ID, the request still pending and nothing audited as approved",
			Run:    pushOtherUser},
		scenario{ID: "Z6", Name: "push-pending-list-shows-only-own-requests-and-no-number", Needs: accounts,
			Attack: "List open push requests (GET /auth/push/pending) as another user, as the new device's pre-MFA token and anonymously: only the owner sees the request, never its number",
			Run:    pushPendingList},
		scenario{ID: "A9", Name: "push-self-approval-with-the-pre-MFA-token", Needs: accounts,
			Attack: "Knowing only the password, approve or deny the login's own push request with its mfa_token: 401, the request still pending",
			Run:    pushSelfApproval},
		scenario{ID: "I1", Name: "push-prompt-flood-capped-at-3-per-login", Needs: accounts,
			Attack: "Begin push approval again and again on one pending login: 429 after 3, the user's devices get exactly 3 prompts, the refusal audited",
			Run:    pushFlood},
		scenario{ID: "A1", Name: "push-approval-polled-by-another-login", Needs: accounts,
			Attack: "Poll a push request the owner approved with the mfa_token of another login of the same account: 401, no session for it; the approved device signs in once",
			Run:    pushPollHijack},
		scenario{ID: "A6", Name: "stale-second-factor-on-every-sensitive-route", Needs: accounts | isolated | inProcess,
			Attack: "Six minutes after the last second factor, change password, passkeys, contacts, unlock and security policy: 403 step_up_required, nothing changed; a password is no step-up with MFA; the window is 5 minutes",
			Run:    staleStepUp},
	)
}

// ---- helpers -------------------------------------------------------------------

// loginAttempt is one password login, waiting out a rate limit left by
// earlier scenarios (in-process the clock moves a minute; against a target
// it sleeps), so that lockout counts are not mistaken for throttling.
func (e *env) loginAttempt(t *testing.T, username, pw string, hdr map[string]string) *reply {
	t.Helper()
	for attempt := 0; ; attempt++ {
		r := e.loginRaw(t, username, pw, hdr)
		if r.Status != 429 || attempt >= 2 {
			return r
		}
		if e.srv != nil {
			e.cooldown(t)
		} else {
			d, _ := strconv.Atoi(r.Header.Get("Retry-After"))
			time.Sleep(min(max(time.Duration(d)*time.Second, time.Second), 65*time.Second))
		}
	}
}

// dormant makes an account that has never signed in: this address is then
// no known source of it, so a lock holds here against the right password
// too (the owner's own recent sources are spared, A9).
func (e *env) dormant(t *testing.T, prefix string) (name, id string) {
	t.Helper()
	name = e.unique(prefix)
	id, err := e.admin(t).CreateUser(ctx(t), wire.CreateUserRequest{Username: name, DisplayName: "User " + name, Password: password})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return name, id
}

// lock fails name's password as often as the default policy allows (5),
// each a 401, and returns the first answer.
func (e *env) lock(t *testing.T, name string) *reply {
	t.Helper()
	var first *reply
	for i := 0; i < 5; i++ {
		r := e.loginAttempt(t, name, fmt.Sprintf("Wrong-Guess-%02d!", i), nil)
		expect(t, r, 401, "unauthenticated")
		if first == nil {
			first = r
		}
	}
	return first
}

// sameAnswer fails unless a refused login answered exactly like ref.
func sameAnswer(t *testing.T, what string, r, ref *reply) {
	t.Helper()
	if r.Status != ref.Status || string(r.Body) != string(ref.Body) || !sameHeaderNames(r.Header, ref.Header) {
		t.Errorf("%s answers %s %v, a wrong password %s %v", what, r, r.Header, ref, ref.Header)
	}
}

// loginNotices decodes a successful login's notices.
func loginNotices(t *testing.T, r *reply) []string {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("login: %s", r)
	}
	var res wire.LoginResponse
	if err := json.Unmarshal(r.Body, &res); err != nil {
		t.Fatal(err)
	}
	return res.Notices
}

// stepUpPassword steps up a's session with the password (an account
// without a second factor has nothing else to offer).
func (e *env) stepUpPassword(t *testing.T, a *account) {
	t.Helper()
	if err := e.wait429(t, func() error {
		_, err := a.StepUp(ctx(t), "password", "", password)
		return err
	}); err != nil {
		t.Fatalf("step-up %s: %v", a.Username, err)
	}
}

func (e *env) changePassword(t *testing.T, token, current, next string) *reply {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/v1/auth/password", token: token,
		body: jsonBody(t, wire.ChangePasswordRequest{CurrentPassword: current, NewPassword: next})})
}

func (e *env) stepUpRaw(t *testing.T, token string, body wire.StepUpRequest) *reply {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/v1/auth/step-up", token: token, body: jsonBody(t, body)})
}

// ---- lockout (A3, A9) ------------------------------------------------------------

func lockoutRightPassword(t *testing.T, e *env) {
	name, id := e.dormant(t, "lockme")
	mark := e.auditMark(t)
	wrong := e.lock(t, name)
	sameAnswer(t, "the right password during the lock", e.loginAttempt(t, name, password, nil), wrong)
	sameAnswer(t, "the right password from another device", e.loginAttempt(t, name, password,
		map[string]string{"User-Agent": "Mozilla/5.0 (another device)"}), wrong)
	e.expectAudit(t, mark, "the lock", func(r wire.AuditRecord) bool {
		return r.Action == "auth.lock" && r.Target == id && strings.Contains(r.Reason, "locked until")
	})
	e.expectAudit(t, mark, "the refused right password", func(r wire.AuditRecord) bool {
		return r.Action == "auth.login" && r.Result == "failure" && r.ActorID == id && r.Reason == "account locked"
	})
}

func lockoutUnknownName(t *testing.T, e *env) {
	name, id := e.dormant(t, "realname")
	ghost := e.unique("ghost")
	mark := e.auditMark(t)
	ref := e.lock(t, name)
	sameAnswer(t, "a wrong password for a name without an account", e.lock(t, ghost), ref)
	sameAnswer(t, "the right password of the locked account", e.loginAttempt(t, name, password, nil), ref)
	sameAnswer(t, "a password for the locked unknown name", e.loginAttempt(t, ghost, password, nil), ref)
	sameAnswer(t, "the locked unknown name in another case", e.loginAttempt(t, strings.ToUpper(ghost), "Wrong-Guess-99!", nil), ref)
	e.expectAudit(t, mark, "the lock of the unknown name", func(r wire.AuditRecord) bool {
		return r.Action == "auth.lock" && r.ActorName == ghost && strings.Contains(r.Reason, "no account has this name")
	})
	e.expectAudit(t, mark, "the lock of the account", func(r wire.AuditRecord) bool {
		return r.Action == "auth.lock" && r.Target == id
	})
}

func lockoutNotExtended(t *testing.T, e *env) {
	name, id := e.dormant(t, "patient")
	mark := e.auditMark(t)
	e.lock(t, name)
	e.advance(t, 20*time.Minute)
	for i := 0; i < 6; i++ {
		expect(t, e.loginAttempt(t, name, fmt.Sprintf("Still-Guessing-%d!", i), nil), 401, "unauthenticated")
	}
	expect(t, e.loginAttempt(t, name, password, nil), 401, "unauthenticated")
	e.advance(t, 10*time.Minute+time.Second) // 30 minutes after the lock began
	r := e.loginAttempt(t, name, password, nil)
	if r.Status != 200 {
		t.Fatalf("30 minutes after the lock, after guesses during it: %s (the guesses extended the lock)", r)
	}
	if n := loginNotices(t, r); !slices.Contains(n, "account_was_locked") {
		t.Fatalf("notices = %v, want account_was_locked", n)
	}
	locks := 0
	for _, rec := range e.auditAfter(t, mark) {
		if rec.Action == "auth.lock" && rec.Target == id {
			locks++
		}
	}
	if locks != 1 {
		t.Fatalf("%d locks audited, want 1: guesses during a lock must not count", locks)
	}
}

func unlockNeedsStepUp(t *testing.T, e *env) {
	name, id := e.dormant(t, "lockedout")
	helper := e.fresh(t, "helper")
	admin := e.admin(t)
	mark := e.auditMark(t) // the auditor exists before the admin's factor goes stale
	e.lock(t, name)
	unlock := func(a *account) *reply {
		return e.do(t, req{method: "POST", path: "/api/v1/users/" + id + "/unlock", token: a.Token()})
	}
	expect(t, unlock(helper), 403, "forbidden")
	e.expectAudit(t, mark, "the ordinary user's unlock", func(r wire.AuditRecord) bool {
		return r.Action == "api.denied" && r.ActorID == helper.ID && strings.Contains(r.Target, "/unlock")
	})
	e.advance(t, 6*time.Minute) // the administrator's second factor is stale (A6: 5 minutes)
	expect(t, unlock(admin), 403, "step_up_required")
	expect(t, e.loginAttempt(t, name, password, nil), 401, "unauthenticated") // still locked
	e.stepUp(t, admin)
	if r := unlock(admin); r.Status != 204 {
		t.Fatalf("unlock after step-up: %s", r)
	}
	e.expectAudit(t, mark, "the unlock", func(r wire.AuditRecord) bool {
		return r.Action == "auth.unlock" && r.Result == "success" && r.Target == id && strings.Contains(r.Reason, "locked until")
	})
	if n := loginNotices(t, e.loginAttempt(t, name, password, nil)); !slices.Contains(n, "account_was_locked") {
		t.Fatalf("notices after the unlock = %v, want account_was_locked", n)
	}
}

// ---- passwords (A3, A6) ------------------------------------------------------------

// orgName is the name of the root department, which no password may contain.
func (e *env) orgName(t *testing.T) string {
	t.Helper()
	for _, d := range departmentsOf(t, e.admin(t)) {
		if d.ParentID == "" {
			return d.Name
		}
	}
	return ""
}

func passwordWeak(t *testing.T, e *env) {
	u := e.fresh(t, "pwpolicy")
	cases := []struct{ pw, rule string }{
		{"#ImNotAHacker69", "breached"},
		{"!Passat1979/", "breached"}, // on the list in lower case: compared case-insensitively
		{"Secret-" + strings.ToUpper(u.Username) + "-9!", "username"},
		{"Short-1a!", "at least 12"},
		{"no-capitals-here-42!", "upper-case"},
		{strings.Repeat("Aa1!", 65), "at most 256 bytes"},
	}
	if org := e.orgName(t); len(org) >= 4 && !strings.ContainsAny(org, " ") {
		cases = append(cases, struct{ pw, rule string }{"Welcome-" + org + "-2026!", "organisation"})
	}
	e.stepUpPassword(t, u)
	mark := e.auditMark(t)
	for _, c := range cases {
		r := e.changePassword(t, u.Token(), password, c.pw)
		expect(t, r, 400, "invalid")
		if !strings.Contains(r.Err.Message, c.rule) || strings.Contains(string(r.Body), c.pw) {
			t.Errorf("%.20q: %s; want the rule %q named and the password not echoed", c.pw, r, c.rule)
		}
	}
	// Nothing changed: a refused password does not sign in, the old one does.
	expect(t, e.loginAttempt(t, u.Username, cases[0].pw, nil), 401, "unauthenticated")
	if r := e.loginAttempt(t, u.Username, password, nil); r.Status != 200 {
		t.Fatalf("the old password after the refusals: %s", r)
	}
	refusals := 0
	for _, r := range e.auditAfter(t, mark) {
		if r.Action == "auth.password_change" && r.Result == "failure" && r.ActorID == u.ID {
			refusals++
		}
		for _, c := range cases {
			if strings.Contains(r.Reason, c.pw) || strings.Contains(r.Target, c.pw) {
				t.Errorf("the audit trail holds a refused password: %+v", r)
			}
		}
	}
	if refusals < len(cases) {
		t.Errorf("%d of %d refused changes audited", refusals, len(cases))
	}
}

func passwordReuse(t *testing.T, e *env) {
	u := e.fresh(t, "rotate")
	pw := []string{password, "Rotate-Pass-1a!", "Rotate-Pass-2b!", "Rotate-Pass-3c!", "Rotate-Pass-4d!", "Rotate-Pass-5e!"}
	e.stepUpPassword(t, u)
	for i := 1; i < len(pw); i++ {
		if r := e.changePassword(t, u.Token(), pw[i-1], pw[i]); r.Status != 204 {
			t.Fatalf("change %d: %s", i, r)
		}
	}
	// The last 5 are pw[5] (current) … pw[1].
	for i := 1; i < len(pw); i++ {
		r := e.changePassword(t, u.Token(), pw[5], pw[i])
		expect(t, r, 400, "invalid")
		if !strings.Contains(r.Err.Message, "differ from") {
			t.Errorf("reuse of password %d: %s", i, r)
		}
	}
	expect(t, e.loginAttempt(t, u.Username, pw[1], nil), 401, "unauthenticated")
	if r := e.loginAttempt(t, u.Username, pw[5], nil); r.Status != 200 {
		t.Fatalf("the current password after the refusals: %s", r)
	}
	if r := e.changePassword(t, u.Token(), pw[5], pw[0]); r.Status != 204 {
		t.Fatalf("the 6th-oldest password is allowed again, got %s", r)
	}
}

func passwordStolenSession(t *testing.T, e *env) {
	u := e.fresh(t, "stolen")
	stolen := u.Token() // a password-only session: no second factor used yet
	const chosen = "Thief-Chosen-Pass-9!"
	mark := e.auditMark(t)
	expect(t, e.changePassword(t, stolen, password, chosen), 403, "step_up_required")
	expect(t, e.stepUpRaw(t, stolen, wire.StepUpRequest{Method: "password", Password: "Guessed-Pass-123!"}), 401, "unauthenticated")
	e.expectAudit(t, mark, "the failed step-up", func(r wire.AuditRecord) bool {
		return r.Action == "auth.step_up" && r.Result == "failure" && r.ActorID == u.ID
	})
	// The owner steps up: that replaces the session, so the stolen token is
	// dead; a thief who steals the fresh one still needs the password.
	e.stepUpPassword(t, u)
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: stolen}), 401, "unauthenticated")
	expect(t, e.changePassword(t, u.Token(), "Guessed-Pass-123!", chosen), 403, "forbidden")
	e.expectAudit(t, mark, "the wrong current password", func(r wire.AuditRecord) bool {
		return r.Action == "auth.password_change" && r.Result == "failure" && r.ActorID == u.ID && strings.Contains(r.Reason, "wrong current password")
	})
	expect(t, e.loginAttempt(t, u.Username, chosen, nil), 401, "unauthenticated")
	if r := e.loginAttempt(t, u.Username, password, nil); r.Status != 200 {
		t.Fatalf("the owner's password: %s", r)
	}
}

// expiredOK are the only operations a session with an expired password may
// reach (A3), besides the public ones.
var expiredOK = []string{"GET /api/v1/me", "POST /api/v1/auth/logout", "POST /api/v1/auth/password"}

func passwordExpiredSession(t *testing.T, e *env) {
	u := e.fresh(t, "expired")
	// The user keeps signing in (an account unused for 90 days is refused
	// altogether, Z11); the password turns 90 days old an hour after the
	// last of those logins.
	e.advance(t, 90*24*time.Hour-time.Hour)
	if r := e.loginAttempt(t, u.Username, password, nil); len(loginNotices(t, r)) != 0 {
		t.Fatalf("an hour before the password expires: %s", r)
	}
	e.advance(t, time.Hour)
	r := e.loginAttempt(t, u.Username, password, nil)
	if n := loginNotices(t, r); !slices.Contains(n, "password_expired") {
		t.Fatalf("notices at 90 days = %v, want password_expired", n)
	}
	var res wire.LoginResponse
	_ = json.Unmarshal(r.Body, &res)
	tok := res.Token
	_, ops := e.openAPI(t)
	ids := map[string]string{"id": u.ID, "channel": "email"}
	n := 0
	for _, op := range ops {
		if op.Perm == "public" || slices.Contains(expiredOK, op.Method+" "+op.Path) {
			continue
		}
		var body []byte
		if op.Body != "" {
			body = []byte(`{}`)
		}
		r := e.do(t, req{method: op.Method, path: fillPath(op.Path, ids), token: tok, body: body, http1: op.Path == "/api/v1/ws"})
		if r.Status != 403 || r.Err.Code != "password_change_required" {
			t.Errorf("%s %s with an expired password: %s", op.Method, op.Path, r)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d operations tried", n)
	}
	e.refusedWS(t, tok, nil, 403, "password_change_required")
	if r := e.do(t, req{method: "GET", path: "/api/v1/me", token: tok}); r.Status != 200 {
		t.Fatalf("me: %s", r)
	}
	// The change still checks the current password and the policy, and a
	// refused change leaves the session as limited as before.
	expect(t, e.changePassword(t, tok, "Wrong-Current-1!", "Brand-New-Pass-7!"), 403, "forbidden")
	expect(t, e.changePassword(t, tok, password, "#ImNotAHacker69"), 400, "invalid")
	expect(t, e.changePassword(t, tok, password, password), 400, "invalid")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/conversations", token: tok}), 403, "password_change_required")
	if r := e.changePassword(t, tok, password, "Brand-New-Pass-7!"); r.Status != 204 {
		t.Fatalf("changing the expired password: %s", r)
	}
	if r := e.do(t, req{method: "GET", path: "/api/v1/conversations", token: tok}); r.Status != 200 {
		t.Fatalf("after the change: %s", r)
	}
}

// ---- passkeys (A1, A6, Z6) ------------------------------------------------------------

// authenticator is a software passkey (virtualwebauthn plays browser and
// authenticator) holding one credential, for the relying party rp — which
// an attack may falsify.
type authenticator struct {
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

// relyingParty is what a browser at the server's own origin presents:
// in-process the node's configured RP ID and origin; against a target its
// host name and URL (a deployment configured otherwise is skipped at the
// first registration).
func (e *env) relyingParty(t *testing.T) virtualwebauthn.RelyingParty {
	t.Helper()
	if e.srv != nil {
		origins := e.srv.Node.WebAuthn.Origins()
		if len(origins) == 0 {
			t.Fatal("the server has no WebAuthn origin")
		}
		return virtualwebauthn.RelyingParty{ID: e.srv.Node.WebAuthn.RPID(), Name: "Parley", Origin: origins[0]}
	}
	u, _ := url.Parse(e.url)
	return virtualwebauthn.RelyingParty{ID: u.Hostname(), Name: "Parley", Origin: e.url}
}

func (e *env) newAuthenticator(t *testing.T) *authenticator {
	t.Helper()
	return &authenticator{rp: e.relyingParty(t), auth: virtualwebauthn.NewAuthenticator(), cred: ec2Credential(t)}
}

// ec2Credential makes a P-256 credential whose public coordinates are both
// 32 bytes long: virtualwebauthn encodes them with big.Int.Bytes, which
// drops leading zero bytes, so about one key in 64 would reach the server
// as a malformed COSE key (rightly refused).
func ec2Credential(t *testing.T) virtualwebauthn.Credential {
	t.Helper()
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := k.PublicKey.Bytes() // 0x04 ‖ X ‖ Y
		if err != nil {
			t.Fatal(err)
		}
		if pub[1] == 0 || pub[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}

// create answers creation options as navigator.credentials.create would.
func (d *authenticator) create(t *testing.T, options json.RawMessage) json.RawMessage {
	t.Helper()
	opts, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatalf("creation options: %v (%s)", err, options)
	}
	return json.RawMessage(virtualwebauthn.CreateAttestationResponse(d.rp, d.auth, d.cred, *opts))
}

// get answers request options with the signature counter one higher than
// last time, as a genuine authenticator does.
func (d *authenticator) get(t *testing.T, options json.RawMessage) json.RawMessage {
	t.Helper()
	d.cred.Counter++
	return d.getAt(t, options, d.cred.Counter)
}

// getAt answers with a chosen counter (a cloned authenticator).
func (d *authenticator) getAt(t *testing.T, options json.RawMessage, counter uint32) json.RawMessage {
	t.Helper()
	opts, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatalf("request options: %v (%s)", err, options)
	}
	c := d.cred
	c.Counter = counter
	return json.RawMessage(virtualwebauthn.CreateAssertionResponse(d.rp, d.auth, c, *opts))
}

// passkeyUser makes a throwaway user whose second factor is a passkey,
// registered as the first factor (no step-up needed); the registration
// replaces the session with one verified now.
func (e *env) passkeyUser(t *testing.T, prefix string) (*account, *authenticator) {
	t.Helper()
	u := e.fresh(t, prefix)
	d := e.newAuthenticator(t)
	opts, err := u.BeginPasskeyRegistration(ctx(t))
	if err != nil {
		t.Fatalf("register begin: %v", err)
	}
	if _, err := u.FinishPasskeyRegistration(ctx(t), "", d.create(t, opts)); err != nil {
		if targetMode() {
			t.Skipf("the target refused a passkey for RP ID %q and origin %q: %v", d.rp.ID, d.rp.Origin, err)
		}
		t.Fatalf("register finish: %v", err)
	}
	return u, d
}

// passkeyChallenge starts a password login of u and asks for a passkey
// challenge: the mfa_token and the request options.
func (e *env) passkeyChallenge(t *testing.T, u *account) (string, json.RawMessage) {
	t.Helper()
	tok := e.pending(t, u)
	opts, err := e.newClient(t, "").BeginPasskeyLogin(ctx(t), tok)
	if err != nil {
		t.Fatalf("login begin: %v", err)
	}
	return tok, opts
}

func (e *env) passkeyFinish(t *testing.T, mfaToken string, credential json.RawMessage) *reply {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/v1/auth/webauthn/login/finish",
		body: jsonBody(t, wire.WebAuthnLoginFinishRequest{MFAToken: mfaToken, Credential: credential})})
}

func (e *env) passkeyStepUpFinish(t *testing.T, token string, credential json.RawMessage) *reply {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/v1/auth/webauthn/step-up/finish", token: token,
		body: jsonBody(t, wire.WebAuthnStepUpFinishRequest{Credential: credential})})
}

// uniform fails unless r is the one answer of a failed second factor: it
// never says which check failed (A9).
func uniform(t *testing.T, what string, r *reply) {
	t.Helper()
	if r.Status != 401 || r.Err.Code != "unauthenticated" || r.Err.Message != "invalid code" {
		t.Fatalf("%s: %s, want the uniform 401 \"invalid code\"", what, r)
	}
}

// mfaFailure matches the audit record of u's failed second factor whose
// reason contains reason.
func mfaFailure(u *account, reason string) func(wire.AuditRecord) bool {
	return func(r wire.AuditRecord) bool {
		return r.Action == "auth.mfa" && r.Result == "failure" && r.ActorID == u.ID && strings.Contains(r.Reason, reason)
	}
}

func passkeyReplay(t *testing.T, e *env) {
	u, key := e.passkeyUser(t, "replay")
	tok, opts := e.passkeyChallenge(t, u)
	captured := key.get(t, opts)
	if r := e.passkeyFinish(t, tok, captured); r.Status != 200 {
		t.Fatalf("the genuine login: %s", r)
	}
	mark := e.auditMark(t)
	expect(t, e.passkeyFinish(t, tok, captured), 401, "unauthenticated")
	tok2, _ := e.passkeyChallenge(t, u)
	uniform(t, "the captured assertion on a new login", e.passkeyFinish(t, tok2, captured))
	e.expectAudit(t, mark, "the replayed assertion", mfaFailure(u, "webauthn"))
	// The failed replay spent that challenge; the owner asks for another.
	opts, err := e.newClient(t, "").BeginPasskeyLogin(ctx(t), tok2)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.passkeyFinish(t, tok2, key.get(t, opts)); r.Status != 200 {
		t.Fatalf("the owner after the replay: %s", r)
	}
	// A step-up assertion works once.
	opts, err = u.BeginPasskeyStepUp(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	answer := key.get(t, opts)
	if _, err := u.FinishPasskeyStepUp(ctx(t), answer); err != nil {
		t.Fatal(err)
	}
	tok3 := u.Token()
	expect(t, e.passkeyStepUpFinish(t, tok3, answer), 401, "unauthenticated")
	if r := e.do(t, req{method: "GET", path: "/api/v1/me", token: tok3}); r.Status != 200 {
		t.Fatalf("the session after the refused replay: %s", r)
	}
	e.expectAudit(t, mark, "the replayed step-up", func(r wire.AuditRecord) bool {
		return r.Action == "auth.step_up" && r.Result == "failure" && r.ActorID == u.ID && strings.Contains(r.Reason, "no pending")
	})
}

func passkeyOtherUser(t *testing.T, e *env) {
	alice, aliceKey := e.passkeyUser(t, "pkalice")
	bob, bobKey := e.passkeyUser(t, "pkbob")
	mark := e.auditMark(t)
	tok, opts := e.passkeyChallenge(t, alice)
	uniform(t, "bob's passkey for alice's login", e.passkeyFinish(t, tok, bobKey.get(t, opts)))
	e.expectAudit(t, mark, "the foreign credential", mfaFailure(alice, "not owned"))
	// One authenticator credential belongs to one account (bob's session is
	// fresh from his registration, so no step-up is missing).
	opts, err := bob.BeginPasskeyRegistration(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(t, req{method: "POST", path: "/api/v1/auth/webauthn/register/finish", token: bob.Token(),
		body: jsonBody(t, wire.WebAuthnRegisterFinishRequest{Name: "Borrowed key", Credential: aliceKey.create(t, opts)})})
	expect(t, r, 400, "invalid")
	if list, err := bob.Passkeys(ctx(t)); err != nil || len(list) != 1 {
		t.Fatalf("bob's passkeys after the refusal: %+v, %v", list, err)
	}
	e.expectAudit(t, mark, "the refused registration", func(r wire.AuditRecord) bool {
		return r.Action == "auth.webauthn_register" && r.Result == "failure" && r.ActorID == bob.ID &&
			strings.Contains(r.Reason, "already registered")
	})
	// Alice's own key still signs her in.
	tok, opts = e.passkeyChallenge(t, alice)
	if r := e.passkeyFinish(t, tok, aliceKey.get(t, opts)); r.Status != 200 {
		t.Fatalf("alice's own passkey: %s", r)
	}
}

func passkeyClone(t *testing.T, e *env) {
	u, key := e.passkeyUser(t, "clone")
	tok, opts := e.passkeyChallenge(t, u)
	if r := e.passkeyFinish(t, tok, key.getAt(t, opts, 50)); r.Status != 200 {
		t.Fatalf("counter 50: %s", r)
	}
	key.cred.Counter = 50
	mark := e.auditMark(t)
	tok, opts = e.passkeyChallenge(t, u)
	uniform(t, "a counter gone backwards", e.passkeyFinish(t, tok, key.getAt(t, opts, 7)))
	e.expectAudit(t, mark, "the suspected clone", func(r wire.AuditRecord) bool {
		return r.Action == "auth.webauthn_clone_suspected" && r.Result == "denied" && r.ActorID == u.ID
	})
	tok, opts = e.passkeyChallenge(t, u)
	uniform(t, "a counter repeated", e.passkeyFinish(t, tok, key.getAt(t, opts, 50)))
	tok, opts = e.passkeyChallenge(t, u)
	if r := e.passkeyFinish(t, tok, key.get(t, opts)); r.Status != 200 {
		t.Fatalf("the genuine authenticator, counting on: %s", r)
	}
}

func passkeyPhishing(t *testing.T, e *env) {
	u, key := e.passkeyUser(t, "phished")
	u0, _ := url.Parse(key.rp.Origin)
	port := u0.Port()
	if port == "" {
		port = "443"
	}
	mark := e.auditMark(t)
	for name, rp := range map[string]virtualwebauthn.RelyingParty{
		"phishing origin": {ID: key.rp.ID, Name: key.rp.Name, Origin: "https://parley-login.example"},
		"another port":    {ID: key.rp.ID, Name: key.rp.Name, Origin: "https://" + u0.Hostname() + ":1" + port},
		"plain http":      {ID: key.rp.ID, Name: key.rp.Name, Origin: "http://" + u0.Host},
		"foreign RP ID":   {ID: "parley-login.example", Name: key.rp.Name, Origin: key.rp.Origin},
	} {
		phish := *key
		phish.rp = rp
		tok, opts := e.passkeyChallenge(t, u)
		uniform(t, name, e.passkeyFinish(t, tok, phish.get(t, opts)))
		key.cred.Counter = phish.cred.Counter
	}
	e.expectAudit(t, mark, "the foreign origin", mfaFailure(u, "origin"))
	e.expectAudit(t, mark, "the foreign RP ID", mfaFailure(u, "RP Hash"))
}

func passkeyDeleteIDOR(t *testing.T, e *env) {
	alice, _ := e.passkeyUser(t, "pkdel")
	bob, bobKey := e.passkeyUser(t, "pkkeep")
	list, err := bob.Passkeys(ctx(t))
	if err != nil || len(list) != 1 {
		t.Fatalf("bob's passkeys: %+v, %v", list, err)
	}
	id := list[0].PasskeyID
	nonexistent := id[:len(id)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(id, "A")]
	// Alice's session is fresh from her registration: the step-up gate passes.
	foreign := e.do(t, req{method: "DELETE", path: "/api/v1/auth/webauthn/credentials/" + id, token: alice.Token()})
	expect(t, foreign, 404, "not_found")
	none := e.do(t, req{method: "DELETE", path: "/api/v1/auth/webauthn/credentials/" + nonexistent, token: alice.Token()})
	if none.Status != foreign.Status || string(none.Body) != string(foreign.Body) {
		t.Errorf("a foreign passkey answers %s, a nonexistent one %s", foreign, none)
	}
	if after, err := bob.Passkeys(ctx(t)); err != nil || len(after) != 1 || after[0].PasskeyID != id {
		t.Fatalf("bob's passkeys after the attack: %+v, %v", after, err)
	}
	tok, opts := e.passkeyChallenge(t, bob)
	if r := e.passkeyFinish(t, tok, bobKey.get(t, opts)); r.Status != 200 {
		t.Fatalf("bob's passkey after the attack: %s", r)
	}
}

func passkeyStepUpCrossUser(t *testing.T, e *env) {
	alice, aliceKey := e.passkeyUser(t, "pkvictim")
	mallory, _ := e.passkeyUser(t, "pkmallory")
	before := mallory.Token()
	mark := e.auditMark(t)
	// Alice's authenticator signs mallory's challenge (a relayed prompt).
	opts, err := mallory.BeginPasskeyStepUp(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, e.passkeyStepUpFinish(t, before, aliceKey.get(t, opts)), 401, "unauthenticated")
	// An assertion captured from alice's own step-up, on mallory's session.
	aliceOpts, err := alice.BeginPasskeyStepUp(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	captured := aliceKey.get(t, aliceOpts)
	if _, err := mallory.BeginPasskeyStepUp(ctx(t)); err != nil {
		t.Fatal(err)
	}
	expect(t, e.passkeyStepUpFinish(t, before, captured), 401, "unauthenticated")
	// A step-up would have replaced the session: the old token still works.
	if r := e.do(t, req{method: "GET", path: "/api/v1/me", token: before}); r.Status != 200 {
		t.Fatalf("mallory's session: %s", r)
	}
	e.expectAudit(t, mark, "the refused step-up", func(r wire.AuditRecord) bool {
		return r.Action == "auth.step_up" && r.Result == "failure" && r.ActorID == mallory.ID
	})
	// Alice's challenge was untouched: her own answer still steps her up.
	old := alice.Token()
	if _, err := alice.FinishPasskeyStepUp(ctx(t), captured); err != nil {
		t.Fatalf("alice's own step-up after the attack: %v", err)
	}
	if alice.Token() == old {
		t.Fatal("alice's step-up kept the session ID")
	}
}

// ---- one-time codes (A1, A6) ------------------------------------------------------------

// mailbox completes a scenario that reads one-time codes: it gets an
// in-process server of its own whose e-mail and SMS land in an outbox,
// read as the user reads their mailbox. Against a target there is no
// mailbox to read, so such scenarios are skipped there.
func mailbox(s scenario, run func(t *testing.T, e *env, ob *parleytest.Outbox)) scenario {
	var boxes sync.Map // *testing.T → *parleytest.Outbox: Options and Run are called with the same t
	s.Needs |= accounts | isolated | inProcess
	s.Options = func(t *testing.T) []parleytest.ServerOption {
		ob := parleytest.NewOutbox(t)
		boxes.Store(t, ob)
		return []parleytest.ServerOption{parleytest.WithOutbox(ob)}
	}
	s.Run = func(t *testing.T, e *env) {
		ob, ok := boxes.LoadAndDelete(t)
		if !ok {
			t.Fatal("no outbox: the scenario needs its own in-process server")
		}
		run(t, e, ob.(*parleytest.Outbox))
	}
	return s
}

// codeUser makes a throwaway user whose second factor is an e-mail code:
// without a factor yet, they step up with the password, add an address and
// confirm it with the code sent there.
func (e *env) codeUser(t *testing.T, ob *parleytest.Outbox, prefix string) (*account, string) {
	t.Helper()
	u := e.fresh(t, prefix)
	e.stepUpPassword(t, u)
	addr := u.Username + "@example.com"
	if _, err := u.SetContact(ctx(t), "email", addr); err != nil {
		t.Fatalf("set contact: %v", err)
	}
	if _, err := u.ConfirmContact(ctx(t), "email", ob.LastCode(addr)); err != nil {
		t.Fatalf("confirm contact: %v", err)
	}
	e.advance(t, 61*time.Second) // one code a minute per user
	return u, addr
}

// loginCode sends a login code for the pending login mfaToken and reads it.
func (e *env) loginCode(t *testing.T, ob *parleytest.Outbox, mfaToken, addr string) string {
	t.Helper()
	if _, err := e.newClient(t, "").SendLoginOTP(ctx(t), mfaToken, "email"); err != nil {
		t.Fatalf("send login code: %v", err)
	}
	return ob.LastCode(addr)
}

func (e *env) stepUpCode(t *testing.T, token, code string) *reply {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/v1/auth/otp/step-up", token: token,
		body: jsonBody(t, wire.OTPStepUpRequest{Channel: "email", Code: code})})
}

func masked(addr string) string { return addr[:1] + "***" + addr[strings.IndexByte(addr, '@'):] }

func codeReuse(t *testing.T, e *env, ob *parleytest.Outbox) {
	u, addr := e.codeUser(t, ob, "reuse")
	tok := e.pending(t, u)
	code := e.loginCode(t, ob, tok, addr)
	if r := e.mfaRaw(t, tok, "email_otp", code); r.Status != 200 {
		t.Fatalf("first use of the code: %s", r)
	}
	mark := e.auditMark(t)
	expect(t, e.mfaRaw(t, tok, "email_otp", code), 401, "unauthenticated")
	tok2 := e.pending(t, u)
	uniform(t, "the used code on a new login", e.mfaRaw(t, tok2, "email_otp", code))
	e.advance(t, 61*time.Second)
	fresh := e.loginCode(t, ob, tok2, addr)
	if fresh != code {
		uniform(t, "the used code once the new login has its own", e.mfaRaw(t, tok2, "email_otp", code))
	}
	e.expectAudit(t, mark, "the reused code", mfaFailure(u, "email_otp"))
	if r := e.mfaRaw(t, tok2, "email_otp", fresh); r.Status != 200 {
		t.Fatalf("the new login's own code: %s", r)
	}
}

func codeGuessing(t *testing.T, e *env, ob *parleytest.Outbox) {
	u, addr := e.codeUser(t, ob, "guessed")
	e.auditor(t)                // made while the admin's factor is fresh
	e.advance(t, 5*time.Minute) // the step-up of the set-up is stale now
	if _, err := u.SendStepUpOTP(ctx(t), "email"); err != nil {
		t.Fatal(err)
	}
	code := ob.LastCode(addr)
	n, _ := strconv.Atoi(code)
	mark := e.auditMark(t)
	for i := 1; i <= 5; i++ {
		expect(t, e.stepUpCode(t, u.Token(), fmt.Sprintf("%06d", (n+i*7919)%1_000_000)), 401, "unauthenticated")
	}
	expect(t, e.stepUpCode(t, u.Token(), code), 401, "unauthenticated")
	expect(t, e.do(t, req{method: "DELETE", path: "/api/v1/auth/otp/contacts/email", token: u.Token()}), 403, "step_up_required")
	if cs, err := u.Contacts(ctx(t)); err != nil || len(cs) != 1 || !cs[0].Verified {
		t.Fatalf("contacts after the guesses: %+v, %v", cs, err)
	}
	e.expectAudit(t, mark, "the burnt code", func(r wire.AuditRecord) bool {
		return r.Action == "auth.step_up" && r.Result == "failure" && r.ActorID == u.ID && strings.Contains(r.Reason, "too many wrong codes")
	})
}

func codeCrossUser(t *testing.T, e *env, ob *parleytest.Outbox) {
	alice, addrA := e.codeUser(t, ob, "codea")
	bob, addrB := e.codeUser(t, ob, "codeb")
	tokA, tokB := e.pending(t, alice), e.pending(t, bob)
	codeA, codeB := e.loginCode(t, ob, tokA, addrA), e.loginCode(t, ob, tokB, addrB)
	if codeA == codeB {
		t.Skip("the two random codes are equal (one chance in a million)")
	}
	mark := e.auditMark(t)
	uniform(t, "alice's code on bob's login", e.mfaRaw(t, tokB, "email_otp", codeA))
	uniform(t, "alice's code as an SMS code on bob's login", e.mfaRaw(t, tokB, "sms_otp", codeA))
	e.expectAudit(t, mark, "the foreign code", mfaFailure(bob, "email_otp"))
	// A step-up code of alice's session does not finish her pending login.
	e.advance(t, 61*time.Second)
	if _, err := alice.SendStepUpOTP(ctx(t), "email"); err != nil {
		t.Fatal(err)
	}
	if stepCode := ob.LastCode(addrA); stepCode != codeA {
		uniform(t, "a step-up code on a login", e.mfaRaw(t, tokA, "email_otp", stepCode))
	}
	// Each attack cost its target one attempt, no more.
	if r := e.mfaRaw(t, tokB, "email_otp", codeB); r.Status != 200 {
		t.Fatalf("bob's own code: %s", r)
	}
	if r := e.mfaRaw(t, tokA, "email_otp", codeA); r.Status != 200 {
		t.Fatalf("alice's own code: %s", r)
	}
}

func codeRedirect(t *testing.T, e *env, ob *parleytest.Outbox) {
	u, addr := e.codeUser(t, ob, "victim")
	nosy := e.fresh(t, "nosy")
	mark := e.auditMark(t)
	e.advance(t, 5*time.Minute) // the owner's step-up at set-up is stale: the thief holds an ordinary session
	thief := u.Token()
	const evil = "thief@evil.example"
	for _, rq := range []req{
		{method: "PUT", path: "/api/v1/auth/otp/contacts/email", body: jsonBody(t, wire.ContactRequest{Address: evil})},
		{method: "PUT", path: "/api/v1/auth/otp/contacts/sms", body: jsonBody(t, wire.ContactRequest{Address: "+41446681800"})},
		{method: "DELETE", path: "/api/v1/auth/otp/contacts/email"},
	} {
		rq.token = thief
		expect(t, e.do(t, rq), 403, "step_up_required")
	}
	// Even with the phished password: an account with a factor steps up with it.
	expect(t, e.stepUpRaw(t, thief, wire.StepUpRequest{Method: "password", Password: password}), 400, "invalid")
	expect(t, e.do(t, req{method: "PUT", path: "/api/v1/users/" + u.ID + "/contacts/email", token: nosy.Token(),
		body: jsonBody(t, wire.ContactRequest{Address: evil})}), 403, "forbidden")
	e.expectAudit(t, mark, "the ordinary user's contact change", func(r wire.AuditRecord) bool {
		return r.Action == "api.denied" && r.ActorID == nosy.ID
	})
	if cs, err := u.Contacts(ctx(t)); err != nil || len(cs) != 1 ||
		cs[0] != (wire.Contact{Channel: "email", Address: masked(addr), Verified: true}) {
		t.Fatalf("contacts after the attack: %+v, %v", cs, err)
	}
	// The next login code still goes to the owner, none to the thief.
	before := ob.Count(addr)
	tok := e.pending(t, u)
	sent, err := e.newClient(t, "").SendLoginOTP(ctx(t), tok, "email")
	if err != nil || sent.SentTo != masked(addr) || ob.Count(addr) != before+1 {
		t.Fatalf("login code: %+v, %v (%d → %d messages to the owner)", sent, err, before, ob.Count(addr))
	}
	if n := ob.Count(evil); n != 0 {
		t.Fatalf("%d messages went to the thief's address", n)
	}
}

// ---- push approval (A1, A9, Z6, I1) ------------------------------------------------------------

// pushLogin signs u in with the password on a new device and begins push
// approval: the login's mfa_token and the request with its number.
func (e *env) pushLogin(t *testing.T, u *account) (string, *wire.PushBeginResponse) {
	t.Helper()
	c := e.newClient(t, "")
	res := e.loginRetry(t, c, u.Username)
	if !slices.Contains(res.Methods, "push") {
		t.Fatalf("login methods %v: push not offered", res.Methods)
	}
	b, err := c.BeginPush(ctx(t), res.MFAToken)
	if err != nil {
		t.Fatalf("push begin: %v", err)
	}
	return res.MFAToken, b
}

func (e *env) pushAnswer(t *testing.T, token, requestID, verb string, number int) *reply {
	t.Helper()
	var body []byte
	if verb == "approve" {
		body = jsonBody(t, wire.PushApproveRequest{Number: number})
	} else {
		body = []byte(`{}`)
	}
	return e.do(t, req{method: "POST", path: "/api/v1/auth/push/" + url.PathEscape(requestID) + "/" + verb, token: token, body: body})
}

func (e *env) pushPoll(t *testing.T, mfaToken, requestID string) *reply {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/v1/auth/push/poll",
		body: jsonBody(t, wire.PushPollRequest{MFAToken: mfaToken, RequestID: requestID})})
}

// stillPending fails unless the request is still waiting for its owner.
func (e *env) stillPending(t *testing.T, mfaToken, requestID string) {
	t.Helper()
	r := e.pushPoll(t, mfaToken, requestID)
	var p wire.PushPollResponse
	_ = json.Unmarshal(r.Body, &p)
	if r.Status != 202 || p.Status != "pending" || p.Token != "" {
		t.Fatalf("poll: %s, want 202 pending", r)
	}
}

func otherNumber(n int) int { return 10 + (n-10+1)%90 }

func pushWrongNumber(t *testing.T, e *env) {
	u := e.freshMFA(t, "fatigue")
	tok, b := e.pushLogin(t, u)
	mark := e.auditMark(t)
	expect(t, e.pushAnswer(t, u.Token(), b.RequestID, "approve", otherNumber(b.Number)), 403, "forbidden")
	expect(t, e.pushPoll(t, tok, b.RequestID), 401, "unauthenticated")
	expect(t, e.pushAnswer(t, u.Token(), b.RequestID, "approve", b.Number), 409, "conflict")
	expect(t, e.mfaRaw(t, tok, "totp", e.totpCode(t, u.TOTPSecret)), 401, "unauthenticated")
	e.expectAudit(t, mark, "the denial by a wrong number", func(r wire.AuditRecord) bool {
		return r.Action == "auth.push_deny" && r.Target == b.RequestID && strings.Contains(r.Reason, "wrong number")
	})
}

func pushOtherUser(t *testing.T, e *env) {
	u := e.freshMFA(t, "pushee")
	carol := e.freshMFA(t, "pushother") // signed in with a second factor: she could approve her own
	tok, b := e.pushLogin(t, u)
	mark := e.auditMark(t)
	foreign := e.pushAnswer(t, carol.Token(), b.RequestID, "approve", b.Number)
	expect(t, foreign, 404, "not_found")
	id := b.RequestID
	nonexistent := id[:len(id)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(id, "A")]
	if none := e.pushAnswer(t, carol.Token(), nonexistent, "approve", b.Number); none.Status != foreign.Status || string(none.Body) != string(foreign.Body) {
		t.Errorf("another user's request answers %s, a nonexistent one %s", foreign, none)
	}
	expect(t, e.pushAnswer(t, carol.Token(), b.RequestID, "deny", 0), 404, "not_found")
	e.stillPending(t, tok, b.RequestID)
	for _, r := range e.auditAfter(t, mark) {
		if r.Target == b.RequestID && (r.Action == "auth.push_approve" || r.Action == "auth.push_deny") {
			t.Fatalf("the attack answered the request: %+v", r)
		}
	}
}

func pushPendingList(t *testing.T, e *env) {
	u := e.freshMFA(t, "pendee")
	carol := e.freshMFA(t, "pendother")
	tok, b := e.pushLogin(t, u)
	own := e.do(t, req{method: "GET", path: "/api/v1/auth/push/pending", token: u.Token()})
	if own.Status != 200 || !strings.Contains(string(own.Body), b.RequestID) {
		t.Fatalf("the owner's list: %s", own)
	}
	// The number is on the new device only (number matching): no field
	// of the list carries it.
	var list wire.PushRequestList
	if err := json.Unmarshal(own.Body, &list); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(own.Body), `"number"`) || len(list.Requests) != 1 {
		t.Fatalf("the owner's list shows %s", own.Body)
	}
	other := e.do(t, req{method: "GET", path: "/api/v1/auth/push/pending", token: carol.Token()})
	if other.Status != 200 || strings.Contains(string(other.Body), b.RequestID) {
		t.Fatalf("another user's list: %s", other)
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/auth/push/pending", token: tok}), 401, "unauthenticated")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/auth/push/pending"}), 401, "unauthenticated")
	e.stillPending(t, tok, b.RequestID)
}

func pushSelfApproval(t *testing.T, e *env) {
	u := e.freshMFA(t, "selfie")
	tok, b := e.pushLogin(t, u)
	expect(t, e.pushAnswer(t, tok, b.RequestID, "approve", b.Number), 401, "unauthenticated")
	expect(t, e.pushAnswer(t, tok, b.RequestID, "deny", 0), 401, "unauthenticated")
	e.stillPending(t, tok, b.RequestID)
}

func pushFlood(t *testing.T, e *env) {
	u := e.freshMFA(t, "flooded")
	ws := e.mustWS(t, u.Token())
	wsWrite(t, ws, `{"type":"sync","cursors":{}}`)
	wsNext(t, ws, "synced") // the connection is registered for the user's events
	c := e.newClient(t, "")
	res := e.loginRetry(t, c, u.Username)
	mark := e.auditMark(t)
	for i := 0; i < 3; i++ {
		if _, err := c.BeginPush(ctx(t), res.MFAToken); err != nil {
			t.Fatalf("prompt %d: %v", i+1, err)
		}
	}
	for i := 0; i < 3; i++ {
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/auth/push/begin",
			body: jsonBody(t, wire.PushBeginRequest{MFAToken: res.MFAToken})}), 429, "rate_limited")
	}
	if n := len(pushPrompts(t, ws, 3)); n != 3 {
		t.Fatalf("the user's device got %d prompts, want 3", n)
	}
	e.expectAudit(t, mark, "the refused prompt", func(r wire.AuditRecord) bool {
		return r.Action == "auth.push_request" && r.Result == "denied" && r.ActorID == u.ID
	})
}

// pushPrompts reads the push_request frames reaching ws: want of them
// (10 s each), then any more within a quiet second.
func pushPrompts(t *testing.T, ws *websocket.Conn, want int) []wire.PushFrame {
	t.Helper()
	var got []wire.PushFrame
	for {
		wait := 10 * time.Second
		if len(got) >= want {
			wait = time.Second
		}
		c, cancel := context.WithTimeout(context.Background(), wait)
		_, data, err := ws.Read(c)
		timedOut := c.Err() != nil
		cancel()
		if err != nil {
			if timedOut {
				return got
			}
			t.Fatalf("reading prompts: %v", err)
		}
		var f wire.PushFrame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("frame %q: %v", data, err)
		}
		if f.Type == wire.FramePushRequest {
			got = append(got, f)
		}
	}
}

func pushPollHijack(t *testing.T, e *env) {
	u := e.freshMFA(t, "hijack")
	laptop, b := e.pushLogin(t, u)
	attacker := e.pending(t, u) // another login of the same account: the attacker has the password
	if r := e.pushAnswer(t, u.Token(), b.RequestID, "approve", b.Number); r.Status != 204 {
		t.Fatalf("the owner's approval: %s", r)
	}
	expect(t, e.pushPoll(t, attacker, b.RequestID), 401, "unauthenticated")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: attacker}), 401, "unauthenticated")
	r := e.pushPoll(t, laptop, b.RequestID)
	var p wire.PushPollResponse
	if err := json.Unmarshal(r.Body, &p); err != nil || r.Status != 200 || p.Status != "approved" || p.Token == "" {
		t.Fatalf("the approved device's poll: %s", r)
	}
	expect(t, e.pushPoll(t, laptop, b.RequestID), 401, "unauthenticated") // once
	if r := e.do(t, req{method: "GET", path: "/api/v1/me", token: p.Token}); r.Status != 200 {
		t.Fatalf("the approved device's session: %s", r)
	}
}

// ---- step-up window (A6) ------------------------------------------------------------

func staleStepUp(t *testing.T, e *env) {
	u := e.freshMFA(t, "stale")
	admin, sec := e.admin(t), e.secAdmin(t) // made while the admin's factor is fresh
	victim, victimID := e.dormant(t, "unlockee")
	e.lock(t, victim)
	e.advance(t, 6*time.Minute)
	for _, c := range []struct {
		who *account
		rq  req
	}{
		{u, req{method: "POST", path: "/api/v1/auth/password", body: jsonBody(t, wire.ChangePasswordRequest{CurrentPassword: password, NewPassword: "Stale-Factor-New-1!"})}},
		{u, req{method: "POST", path: "/api/v1/auth/webauthn/register/begin", body: []byte(`{}`)}},
		{u, req{method: "DELETE", path: "/api/v1/auth/webauthn/credentials/wa_AAAAAAAAAAAAAAAAAAAAAA"}},
		{u, req{method: "PUT", path: "/api/v1/auth/otp/contacts/email", body: jsonBody(t, wire.ContactRequest{Address: "stale@example.com"})}},
		{u, req{method: "DELETE", path: "/api/v1/auth/otp/contacts/sms"}},
		{admin, req{method: "POST", path: "/api/v1/users/" + victimID + "/unlock"}},
		{sec, req{method: "GET", path: "/api/v1/policy/password"}},
		{sec, req{method: "PUT", path: "/api/v1/policy/password", body: []byte(`{"profile":"nist"}`)}},
		{sec, req{method: "PUT", path: "/api/v1/policy/mfa", body: []byte(`{"require_all":true,"departments":[]}`)}},
	} {
		c.rq.token = c.who.Token()
		if r := e.do(t, c.rq); r.Status != 403 || r.Err.Code != "step_up_required" {
			t.Errorf("%s %s with a second factor 6 minutes old: %s", c.rq.method, c.rq.path, r)
		}
	}
	// A password is no step-up for an account with a second factor.
	tok := u.Token()
	expect(t, e.stepUpRaw(t, tok, wire.StepUpRequest{Method: "password", Password: password}), 400, "invalid")
	expect(t, e.stepUpRaw(t, tok, wire.StepUpRequest{Method: "totp", Code: "000000"}), 401, "unauthenticated")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/auth/webauthn/register/begin", token: tok, body: []byte(`{}`)}), 403, "step_up_required")
	// Nothing changed.
	if r := e.loginAttempt(t, u.Username, password, nil); r.Status != 200 {
		t.Fatalf("u's password: %s", r)
	}
	expect(t, e.loginAttempt(t, victim, password, nil), 401, "unauthenticated") // still locked
	e.stepUp(t, sec)
	if p, err := sec.PasswordPolicy(ctx(t)); err != nil || p.Profile != "checklist" {
		t.Fatalf("password policy: %+v, %v", p, err)
	}
	if p, err := sec.MFAPolicy(ctx(t)); err != nil || p.RequireAll {
		t.Fatalf("MFA policy: %+v, %v", p, err)
	}
	// A fresh factor opens the door, for 5 minutes.
	e.stepUp(t, u)
	if r := e.do(t, req{method: "POST", path: "/api/v1/auth/webauthn/register/begin", token: u.Token(), body: []byte(`{}`)}); r.Status != 200 {
		t.Fatalf("after step-up: %s", r)
	}
	e.advance(t, 5*time.Minute+time.Second)
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/auth/webauthn/register/begin", token: u.Token(), body: []byte(`{}`)}), 403, "step_up_required")
}
