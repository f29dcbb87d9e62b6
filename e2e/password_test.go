package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// Password policy, history, expiry and lockout through the SDK (A3, A5,
// A9, A10), with the server's clock moved by the test: each number of the
// checklist (12 / 4 classes / 5 history / 90 and 180 days / 5 failures /
// 30 minutes) and each nist and mlps3 rule.

const day = 24 * time.Hour

// pwEnv is a server with its setup administrator (system_admin) and a
// security administrator, both with TOTP.
type pwEnv struct {
	s         *parleytest.Server
	admin     *parleytest.Admin
	sec       *client.Client
	secSecret string
}

func newPWEnv(ctx context.Context, t *testing.T, s *parleytest.Server) *pwEnv {
	admin := s.SetupAdmin(ctx)
	sec, secret := enrolledAdmin(ctx, t, s, admin, "sec", "security_admin")
	return &pwEnv{s: s, admin: admin, sec: sec, secSecret: secret}
}

// setPolicy steps the security admin up and sets the policy.
func (e *pwEnv) setPolicy(ctx context.Context, t *testing.T, u wire.PasswordPolicyUpdate) (*wire.PasswordPolicy, error) {
	t.Helper()
	if _, err := e.sec.StepUp(ctx, "totp", e.s.TOTPCode(e.secSecret), ""); err != nil {
		t.Fatalf("step-up: %v", err)
	}
	return e.sec.SetPasswordPolicy(ctx, u)
}

// createUser makes an ordinary user with password pw.
func (e *pwEnv) createUser(ctx context.Context, t *testing.T, name, pw string) string {
	t.Helper()
	id, err := e.admin.CreateUser(ctx, wire.CreateUserRequest{Username: name, DisplayName: "User " + name, Password: pw})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return id
}

// login logs name in with pw on a new client, failing the test on error.
func login(ctx context.Context, t *testing.T, s *parleytest.Server, name, pw string) (*client.Client, *wire.LoginResponse) {
	t.Helper()
	c := s.Client()
	res, err := c.Login(ctx, name, pw)
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return c, res
}

func intp(n int) *int    { return &n }
func boolp(b bool) *bool { return &b }

// auditHas reports whether the trail has a record of action with result
// whose target (if given) matches and whose reason contains reason.
func auditHas(ctx context.Context, t *testing.T, s *parleytest.Server, action, result, target, reason string) bool {
	t.Helper()
	recs, err := s.Node.Store.ListAudit(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(recs, func(r *parley.AuditRecord) bool {
		return r.Action == action && r.Result == result && (target == "" || r.Target == target) && strings.Contains(r.Reason, reason)
	})
}

// TestPasswordPolicyChecklist: the default policy is the checklist's, it
// is readable by the security admin only, and new passwords are held to
// 12 characters, four classes, no names, no breached passwords (A3).
func TestPasswordPolicyChecklist(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		e := newPWEnv(ctx, t, s)
		p, err := e.sec.PasswordPolicy(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := wire.PasswordPolicy{Profile: "checklist", MinLength: 12, MinLengthWithMFA: 12, RequireClasses: true,
			HistoryCount: 5, MaxAgeDays: 90, LockoutThreshold: 5, LockoutMinutes: 30, BreachedListSize: p.BreachedListSize}
		if *p != want || p.BreachedListSize < 100_000 {
			t.Fatalf("default policy = %+v", p)
		}
		_, err = e.admin.PasswordPolicy(ctx) // Z10: security policy is not the system admin's
		expectCode(t, err, "forbidden")

		for pw, msg := range map[string]string{
			"Eleven-Ch1!":                    "at least 12",
			"twelve-char1":                   "upper-case",
			"TWELVE-CHAR1":                   "upper-case",
			"Twelve-Chars":                   "upper-case",
			"Twelve1Chars":                   "upper-case",
			"Dave-Is-Here-1":                 "username",
			"My-Organisation-1":              "organisation",
			"#ImNotAHacker69":                "breached",
			strings.Repeat("Aa1!", 64) + "x": "at most 256 bytes",
		} {
			_, err := e.admin.CreateUser(ctx, wire.CreateUserRequest{Username: "dave", DisplayName: "Dave", Password: pw})
			expectCode(t, err, "invalid")
			if !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), pw) {
				t.Errorf("%q: %v, want mention of %q and no echo", pw, err, msg)
			}
		}
		e.createUser(ctx, t, "dave", "Twelve-Char1") // exactly 12, all four classes
	})
}

// TestPasswordChangeAndHistory: a change needs step-up, the current
// password and a password not among the last 5; it revokes every other
// session (A3, A5, A6).
func TestPasswordChangeAndHistory(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		e := newPWEnv(ctx, t, s)
		pw := []string{"History-Pass-0a!", "History-Pass-1b!", "History-Pass-2c!", "History-Pass-3d!",
			"History-Pass-4e!", "History-Pass-5f!"}
		id := e.createUser(ctx, t, "dave", pw[0])
		dave, _ := login(ctx, t, s, "dave", pw[0])
		other, _ := login(ctx, t, s, "dave", pw[0])

		s.Clock.Advance(6 * time.Minute)
		err := dave.ChangePassword(ctx, pw[0], pw[1])
		expectCode(t, err, "step_up_required")
		if _, err := dave.StepUp(ctx, "password", "", pw[0]); err != nil {
			t.Fatal(err)
		}
		expectCode(t, dave.ChangePassword(ctx, "Not-the-password-1", pw[1]), "forbidden")
		expectCode(t, dave.ChangePassword(ctx, strings.Repeat("x", 300), pw[1]), "forbidden")
		err = dave.ChangePassword(ctx, pw[0], pw[0])
		expectCode(t, err, "invalid")
		if !strings.Contains(err.Error(), "current password") {
			t.Fatalf("same password: %v", err)
		}
		expectCode(t, dave.ChangePassword(ctx, pw[0], "short-1A!"), "invalid")
		expectCode(t, dave.ChangePassword(ctx, pw[0], strings.Repeat("Aa1!", 65)), "invalid")
		if !auditHas(ctx, t, s, "auth.password_change", "failure", id, "wrong current password") {
			t.Error("wrong current password not audited")
		}

		for i := 1; i <= 5; i++ {
			if err := dave.ChangePassword(ctx, pw[i-1], pw[i]); err != nil {
				t.Fatalf("change %d: %v", i, err)
			}
		}
		// A5: the other session ended with the first change; this one lives.
		_, err = other.Me(ctx)
		expectCode(t, err, "unauthenticated")
		if _, err := dave.Me(ctx); err != nil {
			t.Fatal(err)
		}
		// Current pw[5]; the last 5 are pw[5]..pw[1]; pw[0] is the 6th.
		for i := 1; i <= 4; i++ {
			err := dave.ChangePassword(ctx, pw[5], pw[i])
			expectCode(t, err, "invalid")
			if !strings.Contains(err.Error(), "last 5 passwords") {
				t.Fatalf("reuse of pw[%d]: %v", i, err)
			}
		}
		if err := dave.ChangePassword(ctx, pw[5], pw[0]); err != nil {
			t.Fatalf("the 6th-last password refused: %v", err)
		}
		c := s.Client()
		_, err = c.Login(ctx, "dave", pw[5])
		expectCode(t, err, "unauthenticated")
		login(ctx, t, s, "dave", pw[0])
		if !auditHas(ctx, t, s, "auth.password_change", "success", id, "") {
			t.Error("password change not audited")
		}
	})
}

// TestPasswordExpiry90Days: at 90 days the login still succeeds, says so,
// and the session can do nothing but change the password — without
// step-up, the current password being the proof (A3).
func TestPasswordExpiry90Days(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		e := newPWEnv(ctx, t, s)
		created := s.Clock.Now()
		id := e.createUser(ctx, t, "dave", parleytest.Password)

		s.Clock.Advance(90*day - time.Minute - s.Clock.Now().Sub(created))
		c, res := login(ctx, t, s, "dave", parleytest.Password)
		if len(res.Notices) != 0 {
			t.Fatalf("notices a minute before expiry: %v", res.Notices)
		}
		if _, err := c.Conversations(ctx); err != nil {
			t.Fatal(err)
		}
		s.Clock.Advance(time.Minute) // exactly 90 days
		c, res = login(ctx, t, s, "dave", parleytest.Password)
		if !slices.Contains(res.Notices, "password_expired") {
			t.Fatalf("notices at 90 days: %v", res.Notices)
		}
		_, err := c.Conversations(ctx)
		expectCode(t, err, "password_change_required")
		_, err = c.Sessions(ctx)
		expectCode(t, err, "password_change_required")
		if _, err := c.Me(ctx); err != nil {
			t.Fatalf("me: %v", err)
		}
		expectCode(t, c.ChangePassword(ctx, "Wrong-Current-1!", "Brand-New-Pass-7!"), "forbidden")
		if err := c.ChangePassword(ctx, parleytest.Password, "Brand-New-Pass-7!"); err != nil {
			t.Fatalf("change of an expired password: %v", err)
		}
		if _, err := c.Conversations(ctx); err != nil {
			t.Fatalf("after the change: %v", err)
		}
		_, res = login(ctx, t, s, "dave", "Brand-New-Pass-7!")
		if len(res.Notices) != 0 {
			t.Fatalf("notices after the change: %v", res.Notices)
		}
		if !auditHas(ctx, t, s, "auth.password_expired", "success", id, "90 days") {
			t.Error("expiry not audited")
		}
	})
}

// TestPasswordExpiry180Days: the expiry is configurable up to 180 days and
// never beyond under checklist and mlps3 (A3); the change is audited with
// old and new values.
func TestPasswordExpiry180Days(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	e := newPWEnv(ctx, t, s)
	for _, u := range []wire.PasswordPolicyUpdate{
		{Profile: "checklist", MaxAgeDays: intp(181)},
		{Profile: "mlps3", MaxAgeDays: intp(181)},
		{Profile: "checklist", MaxAgeDays: intp(0)},
	} {
		_, err := e.setPolicy(ctx, t, u)
		expectCode(t, err, "invalid")
		if !strings.Contains(err.Error(), "max_age_days") {
			t.Fatalf("%+v: %v", u, err)
		}
	}
	p, err := e.setPolicy(ctx, t, wire.PasswordPolicyUpdate{Profile: "checklist", MaxAgeDays: intp(180)})
	if err != nil || p.MaxAgeDays != 180 || p.MinLength != 12 {
		t.Fatalf("set 180: %+v, %v", p, err)
	}
	if !auditHas(ctx, t, s, "policy.password", "success", "", "max_age_days 90→180") ||
		!auditHas(ctx, t, s, "policy.password", "failure", "", "max_age_days") {
		t.Error("policy changes not audited with old→new")
	}
	created := s.Clock.Now()
	e.createUser(ctx, t, "dave", parleytest.Password)
	advanceInUse(ctx, t, s, 180*day-time.Minute-s.Clock.Now().Sub(created), "dave", parleytest.Password) // Z11: dave keeps signing in
	c, res := login(ctx, t, s, "dave", parleytest.Password)
	if _, err := c.Conversations(ctx); err != nil || len(res.Notices) != 0 {
		t.Fatalf("before 180 days: %v %v", res.Notices, err)
	}
	s.Clock.Advance(time.Minute)
	c, res = login(ctx, t, s, "dave", parleytest.Password)
	_, err = c.Conversations(ctx)
	expectCode(t, err, "password_change_required")
	if !slices.Contains(res.Notices, "password_expired") {
		t.Fatalf("notices at 180 days: %v", res.Notices)
	}
}

// TestLockout: 5 consecutive failures lock for 30 minutes; during the lock
// even the right password gets the answer of a wrong one, exactly as an
// unknown name does; the lock ends by itself and the user is told at the
// next login (A3, A9).
func TestLockout(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		e := newPWEnv(ctx, t, s)
		id := e.createUser(ctx, t, "dave", parleytest.Password)
		c := s.Client()
		var first *client.APIError
		for i := 1; i <= 5; i++ {
			_, err := c.Login(ctx, "dave", fmt.Sprintf("Wrong-Password-%d!", i))
			expectCode(t, err, "unauthenticated")
			if i == 1 {
				asAPIError(err, &first)
			}
		}
		if !auditHas(ctx, t, s, "auth.lock", "success", id, "locked until") {
			t.Fatal("lock not audited")
		}
		_, errLocked := c.Login(ctx, "dave", parleytest.Password)
		_, errUnknown := c.Login(ctx, "nobody-at-all", parleytest.Password)
		var locked, unknown *client.APIError
		if !asAPIError(errLocked, &locked) || !asAPIError(errUnknown, &unknown) ||
			*locked != *first || *unknown != *first || locked.Status != 401 {
			t.Fatalf("locked %+v / unknown %+v / wrong password %+v differ", errLocked, errUnknown, first)
		}
		s.Clock.Advance(29 * time.Minute)
		_, err := c.Login(ctx, "dave", parleytest.Password)
		expectCode(t, err, "unauthenticated")
		s.Clock.Advance(time.Minute) // 30 minutes after the lock
		_, res := login(ctx, t, s, "dave", parleytest.Password)
		if !slices.Equal(res.Notices, []string{"account_was_locked"}) {
			t.Fatalf("notices after the lock = %v", res.Notices)
		}
		_, res = login(ctx, t, s, "dave", parleytest.Password)
		if len(res.Notices) != 0 {
			t.Fatalf("notice given twice: %v", res.Notices)
		}
		// Failures are consecutive: a success in between resets the count.
		for i := 0; i < 4; i++ {
			_, _ = c.Login(ctx, "dave", "Wrong-Password-x!")
		}
		login(ctx, t, s, "dave", parleytest.Password)
		for i := 0; i < 4; i++ {
			_, _ = c.Login(ctx, "dave", "Wrong-Password-y!")
		}
		login(ctx, t, s, "dave", parleytest.Password)
		// A name without an account locks alike (and is audited so).
		s.Clock.Advance(10 * time.Minute) // refill the per-IP bucket
		for i := 0; i < 5; i++ {
			_, _ = c.Login(ctx, "ghost", "Wrong-Password-z!")
		}
		if !auditHas(ctx, t, s, "auth.lock", "success", "", "no account has this name") {
			t.Fatal("lock of an unknown name not audited")
		}
	})
}

// TestAdminUnlock: an administrator lifts a lock with step-up, audited;
// the user is still told; unknown IDs are not_found; an ordinary user may
// not unlock (A9).
func TestAdminUnlock(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		e := newPWEnv(ctx, t, s)
		id := e.createUser(ctx, t, "dave", parleytest.Password)
		e.createUser(ctx, t, "erin", parleytest.Password)
		erin, _ := login(ctx, t, s, "erin", parleytest.Password)
		c := s.Client()
		for i := 0; i < 5; i++ {
			_, _ = c.Login(ctx, "dave", "Wrong-Password-1!")
		}
		_, err := c.Login(ctx, "dave", parleytest.Password)
		expectCode(t, err, "unauthenticated")

		expectCode(t, erin.UnlockUser(ctx, id), "forbidden")
		s.Clock.Advance(6 * time.Minute)
		if _, err := e.admin.Me(ctx); err != nil {
			t.Fatal(err)
		}
		expectCode(t, e.admin.UnlockUser(ctx, id), "step_up_required")
		if _, err := e.admin.StepUp(ctx, "totp", s.TOTPCode(e.admin.TOTPSecret), ""); err != nil {
			t.Fatal(err)
		}
		expectCode(t, e.admin.UnlockUser(ctx, "u_does_not_exist"), "not_found")
		if err := e.admin.UnlockUser(ctx, id); err != nil {
			t.Fatal(err)
		}
		_, res := login(ctx, t, s, "dave", parleytest.Password)
		if !slices.Contains(res.Notices, "account_was_locked") {
			t.Fatalf("notices after unlock = %v", res.Notices)
		}
		if !auditHas(ctx, t, s, "auth.unlock", "success", id, "locked until") ||
			!auditHas(ctx, t, s, "auth.unlock", "failure", "u_does_not_exist", "no such user") {
			t.Fatal("unlock not audited")
		}
		// The security admin may unlock too (Z10: account security).
		if _, err := e.sec.StepUp(ctx, "totp", s.TOTPCode(e.secSecret), ""); err != nil {
			t.Fatal(err)
		}
		if err := e.sec.UnlockUser(ctx, id); err != nil {
			t.Fatal(err)
		}
	})
}

// TestNISTProfile: 15 characters without MFA, 8 with, no composition
// rules, no periodic expiry; breached passwords still refused (A3).
func TestNISTProfile(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		e := newPWEnv(ctx, t, s)
		p, err := e.setPolicy(ctx, t, wire.PasswordPolicyUpdate{Profile: "nist"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Profile != "nist" || p.MinLength != 15 || p.MinLengthWithMFA != 8 || p.RequireClasses || p.MaxAgeDays != 0 {
			t.Fatalf("nist policy = %+v", p)
		}
		_, err = e.setPolicy(ctx, t, wire.PasswordPolicyUpdate{Profile: "nist", RequireClasses: boolp(true)})
		expectCode(t, err, "invalid")
		_, err = e.setPolicy(ctx, t, wire.PasswordPolicyUpdate{Profile: "nist", MaxAgeDays: intp(90)})
		expectCode(t, err, "invalid")

		for pw, msg := range map[string]string{"fourteen chars": "at least 15", "a day to remember": "breached"} {
			_, err := e.admin.CreateUser(ctx, wire.CreateUserRequest{Username: "erin", DisplayName: "Erin", Password: pw})
			expectCode(t, err, "invalid")
			if !strings.Contains(err.Error(), msg) {
				t.Fatalf("%q: %v", pw, err)
			}
		}
		created := s.Clock.Now()
		e.createUser(ctx, t, "erin", "fifteen chars x") // no composition rules
		// Z11: erin keeps signing in, or the account would lapse.
		advanceInUse(ctx, t, s, 400*day, "erin", "fifteen chars x")
		erin, res := login(ctx, t, s, "erin", "fifteen chars x")
		if len(res.Notices) != 0 {
			t.Fatalf("nist expired a password after %v: %v", s.Clock.Now().Sub(created), res.Notices)
		}
		// With a second factor, 8 characters suffice.
		enr, err := erin.EnrollTOTP(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := erin.ConfirmTOTP(ctx, s.TOTPCode(enr.Secret)); err != nil {
			t.Fatal(err)
		}
		err = erin.ChangePassword(ctx, "fifteen chars x", "qzvkwmp")
		expectCode(t, err, "invalid")
		if !strings.Contains(err.Error(), "at least 8") {
			t.Fatalf("7 characters with MFA: %v", err)
		}
		if err := erin.ChangePassword(ctx, "fifteen chars x", "qzvkwmpt"); err != nil {
			t.Fatalf("8 characters with MFA: %v", err)
		}
	})
}

// TestMLPS3Profile: checklist composition, a 90-day change, and MFA for
// every user — an ordinary user without a second factor is held at the
// enrolment gate; one whose password also expired changes it first (A3,
// A10).
func TestMLPS3Profile(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		e := newPWEnv(ctx, t, s)
		e.createUser(ctx, t, "carol", parleytest.Password)
		carol, _ := login(ctx, t, s, "carol", parleytest.Password)
		if _, err := carol.Conversations(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := e.setPolicy(ctx, t, wire.PasswordPolicyUpdate{Profile: "mlps3", MFAForAll: boolp(false)})
		expectCode(t, err, "invalid")
		p, err := e.setPolicy(ctx, t, wire.PasswordPolicyUpdate{Profile: "mlps3"})
		if err != nil {
			t.Fatal(err)
		}
		if !p.MFAForAll || p.MaxAgeDays != 90 || p.HistoryCount != 5 || !p.RequireClasses || p.MinLength != 12 {
			t.Fatalf("mlps3 policy = %+v", p)
		}
		_, err = carol.Conversations(ctx)
		expectCode(t, err, "mfa_enrollment_required")
		_, err = e.admin.CreateUser(ctx, wire.CreateUserRequest{Username: "frank", DisplayName: "Frank", Password: "fifteen chars x"})
		expectCode(t, err, "invalid")

		// 90 days on: expired and not enrolled. The password comes first,
		// then the enrolment gate.
		advanceInUse(ctx, t, s, 90*day, "carol", parleytest.Password) // Z11: carol keeps signing in
		carol, res := login(ctx, t, s, "carol", parleytest.Password)
		if !slices.Contains(res.Notices, "password_expired") {
			t.Fatalf("notices = %v", res.Notices)
		}
		_, err = carol.EnrollTOTP(ctx)
		expectCode(t, err, "password_change_required")
		if err := carol.ChangePassword(ctx, parleytest.Password, "Mlps3-New-Pass-1!"); err != nil {
			t.Fatal(err)
		}
		_, err = carol.Conversations(ctx)
		expectCode(t, err, "mfa_enrollment_required")
		enr, err := carol.EnrollTOTP(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := carol.ConfirmTOTP(ctx, s.TOTPCode(enr.Secret)); err != nil {
			t.Fatal(err)
		}
		if _, err := carol.Conversations(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPasswordPolicyBadInput: unknown fields, out-of-range values and
// unknown profiles are refused with 400 and change nothing; the policy is
// not the system admin's to set (I2, Z10).
func TestPasswordPolicyBadInput(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	e := newPWEnv(ctx, t, s)
	if _, err := e.sec.StepUp(ctx, "totp", s.TOTPCode(e.secSecret), ""); err != nil {
		t.Fatal(err)
	}
	r := newRaw(t, s, e.sec.Token())
	for _, body := range []string{
		`{"profile":"nist","colour":"red"}`,
		`{"profile":"custom"}`,
		`{"profile":"checklist","lockout_threshold":0}`,
		`{"profile":"checklist","lockout_threshold":21}`,
		`{"profile":"checklist","lockout_minutes":0}`,
		`{"profile":"checklist","lockout_minutes":1441}`,
		`{"profile":"checklist","min_length":7,"min_length_with_mfa":7}`,
		`{"profile":"checklist","history_count":-1}`,
		`{"profile":"checklist","max_age_days":"90"}`,
		`{}`,
	} {
		status, eb, _ := r.do("PUT", "/api/v1/policy/password", []byte(body), nil)
		if status != 400 || eb.Error.Code != "invalid" {
			t.Errorf("%s: %d %+v", body, status, eb)
		}
	}
	p, err := e.sec.PasswordPolicy(ctx)
	if err != nil || p.Profile != "checklist" || p.LockoutThreshold != 5 {
		t.Fatalf("policy changed by bad input: %+v %v", p, err)
	}
	if _, err := e.admin.StepUp(ctx, "totp", s.TOTPCode(e.admin.TOTPSecret), ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.SetPasswordPolicy(ctx, wire.PasswordPolicyUpdate{Profile: "nist"})
	expectCode(t, err, "forbidden")
	// The full form works as well as the preset form.
	full, _ := json.Marshal(map[string]any{"profile": "checklist", "min_length": 14, "min_length_with_mfa": 14,
		"require_classes": true, "history_count": 10, "max_age_days": 60, "lockout_threshold": 3,
		"lockout_minutes": 60, "mfa_for_all": true})
	if status, eb, _ := r.do("PUT", "/api/v1/policy/password", full, nil); status != 200 {
		t.Fatalf("full policy: %d %+v", status, eb)
	}
	p, _ = e.sec.PasswordPolicy(ctx)
	if p.MinLength != 14 || p.HistoryCount != 10 || p.MaxAgeDays != 60 || p.LockoutThreshold != 3 || p.LockoutMinutes != 60 || !p.MFAForAll {
		t.Fatalf("full policy read back = %+v", p)
	}
	// The operations are in the OpenAPI document, made from the route table.
	resp, err := r.http.Get(s.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for path, method := range map[string]string{"/api/v1/policy/password": "put", "/api/v1/auth/password": "post",
		"/api/v1/users/{id}/unlock": "post"} {
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("OpenAPI lacks %s %s", method, path)
		}
	}
	// Oversize passwords at login get the answer of a wrong one.
	_, err = s.Client().Login(ctx, "sec", strings.Repeat("A", 257))
	expectCode(t, err, "unauthenticated")
}
