package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// TestSetupAndMFAEnrolmentGate walks first start (A4, A2): the one-time
// token works once; the new administrator can do nothing but enrol MFA;
// enrolment replaces the session; later logins need the second factor.
func TestSetupAndMFAEnrolmentGate(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		c := s.Client()
		req := wire.SetupRequest{SetupToken: "wrong", Username: "admin", Password: parleytest.Password, DisplayName: "Admin"}
		_, err := c.Setup(ctx, req)
		expectCode(t, err, "unauthenticated")
		req.SetupToken = s.SetupToken
		req.Password = "short"
		_, err = c.Setup(ctx, req)
		expectCode(t, err, "invalid") // the token is not spent on a bad request
		req.Password = parleytest.Password
		id, err := c.Setup(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Setup(ctx, req)
		expectCode(t, err, "unauthenticated")
		if _, err := os.Stat(filepath.Join(s.Dir, "setup-token")); !os.IsNotExist(err) {
			t.Fatalf("setup-token file still present after setup: %v", err)
		}

		if _, err := c.Login(ctx, "admin", parleytest.Password); err != nil {
			t.Fatal(err)
		}
		me, err := c.Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if me.UserID != id || me.MFAEnrolled || !contains(me.Roles, "system_admin") {
			t.Fatalf("me = %+v", me)
		}
		_, err = c.Conversations(ctx)
		expectCode(t, err, "mfa_enrollment_required")
		_, err = c.CreateUser(ctx, wire.CreateUserRequest{Username: "early", DisplayName: "E", Password: parleytest.Password})
		expectCode(t, err, "mfa_enrollment_required")

		enr, err := c.EnrollTOTP(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enr.OtpauthURL, "otpauth://totp/") || !strings.Contains(enr.OtpauthURL, "digits=6") {
			t.Fatalf("otpauth url = %q", enr.OtpauthURL)
		}
		_, err = c.ConfirmTOTP(ctx, "000000")
		expectCode(t, err, "unauthenticated")
		// A second session opened with the password alone…
		other := s.Client()
		if _, err := other.Login(ctx, "admin", parleytest.Password); err != nil {
			t.Fatal(err)
		}
		oldToken := c.Token()
		conf, err := c.ConfirmTOTP(ctx, s.TOTPCode(enr.Secret))
		if err != nil {
			t.Fatal(err)
		}
		if len(conf.RecoveryCodes) != 10 || conf.Token == oldToken {
			t.Fatalf("confirm = %d codes, token rotated %v", len(conf.RecoveryCodes), conf.Token != oldToken)
		}
		old, _ := client.New(s.URL, client.WithCAFile(s.CAFile), client.WithToken(oldToken))
		_, err = old.Me(ctx)
		expectCode(t, err, "unauthenticated") // session fixation: the old ID is dead
		_, err = other.Me(ctx)
		expectCode(t, err, "unauthenticated") // …ends with the MFA change (A5)
		if _, err := c.CreateUser(ctx, wire.CreateUserRequest{Username: "dana", DisplayName: "Dana", Password: parleytest.Password}); err != nil {
			t.Fatal(err)
		}

		// A new login now needs the second factor; the pre-MFA token opens
		// nothing else.
		d := s.Client()
		res, err := d.Login(ctx, "admin", parleytest.Password)
		if err != nil {
			t.Fatal(err)
		}
		if !res.MFARequired || res.MFAToken == "" || res.Token != "" || !contains(res.Methods, "totp") {
			t.Fatalf("login = %+v", res)
		}
		pre, _ := client.New(s.URL, client.WithCAFile(s.CAFile), client.WithToken(res.MFAToken))
		_, err = pre.Me(ctx)
		expectCode(t, err, "unauthenticated")
		code := s.TOTPCode(enr.Secret)
		if _, err := d.CompleteMFA(ctx, res.MFAToken, "totp", code); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Conversations(ctx); err != nil {
			t.Fatal(err)
		}
		// Replay: the same code cannot open a second login.
		e := s.Client()
		res2, _ := e.Login(ctx, "admin", parleytest.Password)
		_, err = e.CompleteMFA(ctx, res2.MFAToken, "totp", code)
		expectCode(t, err, "unauthenticated")
		// A recovery code works once.
		if _, err := e.CompleteMFA(ctx, res2.MFAToken, "recovery_code", conf.RecoveryCodes[0]); err != nil {
			t.Fatal(err)
		}
		f := s.Client()
		res3, _ := f.Login(ctx, "admin", parleytest.Password)
		_, err = f.CompleteMFA(ctx, res3.MFAToken, "recovery_code", conf.RecoveryCodes[0])
		expectCode(t, err, "unauthenticated")
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRoleGrantRules: separation of duties at user creation (Z9, Z10).
func TestRoleGrantRules(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	_, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "twohats", DisplayName: "T", Password: parleytest.Password,
		Roles: []string{"system_admin", "auditor"}})
	expectCode(t, err, "invalid")
	_, err = admin.CreateUser(ctx, wire.CreateUserRequest{Username: "ghost", DisplayName: "G", Password: parleytest.Password,
		Roles: []string{"superuser"}})
	expectCode(t, err, "invalid")
	// Bootstrap: the setup administrator hands over to a security admin…
	if _, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "sec", DisplayName: "Sec", Password: parleytest.Password,
		Roles: []string{"security_admin"}}); err != nil {
		t.Fatal(err)
	}
	// …after which only a security admin grants roles.
	_, err = admin.CreateUser(ctx, wire.CreateUserRequest{Username: "aud", DisplayName: "Aud", Password: parleytest.Password,
		Roles: []string{"auditor"}})
	expectCode(t, err, "forbidden")
	// Plain users are still the system admin's to create.
	if _, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "erin", DisplayName: "Erin", Password: parleytest.Password}); err != nil {
		t.Fatal(err)
	}
	_, err = admin.CreateUser(ctx, wire.CreateUserRequest{Username: "ERIN", DisplayName: "Erin 2", Password: parleytest.Password})
	expectCode(t, err, "conflict")
}

// TestLoginRateLimit: repeated failures answer 429 with Retry-After (I1),
// and unknown and known users fail alike (no enumeration).
func TestLoginRateLimit(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	s.NewUser(ctx, admin, "frank")
	c := s.Client()
	_, errKnown := c.Login(ctx, "frank", "Wrong-password-1")
	_, errUnknown := c.Login(ctx, "nobody-here", "Wrong-password-1")
	if errKnown.Error() != errUnknown.Error() {
		t.Fatalf("known and unknown users differ: %q vs %q", errKnown, errUnknown)
	}
	var last error
	for i := 0; i < 15; i++ {
		_, last = c.Login(ctx, "frank", "Wrong-password-1")
		if client.IsCode(last, "rate_limited") {
			break
		}
	}
	var apiErr *client.APIError
	if !client.IsCode(last, "rate_limited") || !asAPIError(last, &apiErr) || apiErr.Status != 429 || apiErr.RetryAfter <= 0 {
		t.Fatalf("after repeated failures: %v", last)
	}
}

// TestAuditTrail: setup, logins, failures and creations are in the chain,
// readable by an auditor only.
func TestAuditTrail(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	u := newCohort(ctx, t, s)
	_, _ = s.Client().Login(ctx, "alice", "Wrong-password-1")
	_, err := u.alice.Audit(ctx, 0, 100)
	expectCode(t, err, "forbidden")
	_, err = u.admin.Audit(ctx, 0, 100) // Z4: the system admin is no auditor
	expectCode(t, err, "forbidden")
	// Bootstrap grant of the auditor role to read the trail.
	if _, err := u.admin.CreateUser(ctx, wire.CreateUserRequest{Username: "audrey", DisplayName: "Audrey", Password: parleytest.Password, Roles: []string{"auditor"}}); err != nil {
		t.Fatal(err)
	}
	aud := s.Login(ctx, "audrey")
	enr, err := aud.EnrollTOTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aud.ConfirmTOTP(ctx, s.TOTPCode(enr.Secret)); err != nil {
		t.Fatal(err)
	}
	recs, err := aud.Audit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var prev string
	for i, r := range recs {
		seen[r.Action+"/"+r.Result] = true
		if r.Seq != int64(i+1) || (i > 0 && r.PrevHash != prev) || r.SourceIP == "" {
			t.Fatalf("record %d breaks the chain or lacks a source: %+v", i, r)
		}
		prev = r.Hash
	}
	for _, want := range []string{"setup/success", "auth.login/success", "auth.login/failure", "user.create/success",
		"auth.totp_enroll/success", "api.denied/denied"} {
		if !seen[want] {
			t.Errorf("no %s record in %v", want, seen)
		}
	}
}

func asAPIError(err error, target **client.APIError) bool {
	e, ok := err.(*client.APIError)
	if ok {
		*target = e
	}
	return ok
}

// TestNoPlaintextAtRest writes marker messages through the API and proves
// that no file of the data directory holds them in plaintext (D2): not the
// database, not its WAL, not the keyring.
func TestNoPlaintextAtRest(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	u := newCohort(ctx, t, s)
	conv, _ := u.alice.CreateConversation(ctx, "group", []string{u.bob.UserID}, "secret-plans")
	markers := []string{"ZEBRA-CANARY-7731", "quarterly numbers: 42.17M", "患者病历-机密-0099"}
	for _, m := range markers {
		if _, err := u.alice.Send(ctx, conv, newMsgID(), m); err != nil {
			t.Fatal(err)
		}
	}
	// Read back once so that nothing is only in flight.
	if msgs, err := u.bob.History(ctx, conv, 0, 10); err != nil || len(msgs) != 3 || msgs[0].Body != markers[0] {
		t.Fatalf("history = %+v, %v", msgs, err)
	}
	scanned := 0
	err := filepath.WalkDir(s.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned++
		for _, m := range markers {
			if bytes.Contains(data, []byte(m)) {
				t.Errorf("%s contains the plaintext %q", path, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 3 {
		t.Fatalf("scanned only %d files", scanned)
	}
}

// TestPreMFATokenOpensNothing: a token from a login that passed the
// password but not the second factor opens no REST route and no WebSocket
// (MFA skip, A9).
func TestPreMFATokenOpensNothing(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	s.SetupAdmin(ctx)
	c := s.Client()
	res, err := c.Login(ctx, "admin", parleytest.Password)
	if err != nil || !res.MFARequired {
		t.Fatalf("login = %+v, %v", res, err)
	}
	r := newRaw(t, s, res.MFAToken)
	for _, p := range []string{"/api/v1/me", "/api/v1/conversations", "/api/v1/sessions", "/api/v1/users"} {
		if status, eb, _ := r.do("GET", p, nil, nil); status != 401 || eb.Error.Code != "unauthenticated" {
			t.Errorf("GET %s with the pre-MFA token: %d %q", p, status, eb.Error.Code)
		}
	}
	for _, p := range []string{"/api/v1/auth/totp/enroll", "/api/v1/auth/step-up", "/api/v1/auth/logout"} {
		if status, _, _ := r.do("POST", p, []byte(`{}`), nil); status != 401 {
			t.Errorf("POST %s with the pre-MFA token: %d", p, status)
		}
	}
	_, resp, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https")+"/api/v1/ws", dialOpts(t, s, res.MFAToken, nil))
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("WebSocket with the pre-MFA token: %v, %v", resp, err)
	}
}

// TestRoleGrantNeedsStepUp: creating a user with an administrative role is
// a role grant and needs a fresh second factor (Z9, A6); a plain user does
// not.
func TestRoleGrantNeedsStepUp(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	s.Clock.Advance(6 * time.Minute)
	if _, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "plain", DisplayName: "Plain", Password: parleytest.Password}); err != nil {
		t.Fatal(err)
	}
	req := wire.CreateUserRequest{Username: "sec", DisplayName: "Sec", Password: parleytest.Password, Roles: []string{"security_admin"}}
	_, err := admin.CreateUser(ctx, req)
	expectCode(t, err, "step_up_required")
	if _, err := admin.StepUp(ctx, "totp", s.TOTPCode(admin.TOTPSecret), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateUser(ctx, req); err != nil {
		t.Fatal(err)
	}
}
