package e2e

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// otpServer is a server whose e-mail and SMS go to an outbox file.
func otpServer(t *testing.T, opts ...parleytest.ServerOption) (*parleytest.Server, *parleytest.Outbox) {
	ob := parleytest.NewOutbox(t)
	return parleytest.NewServer(t, append(opts, parleytest.WithOutbox(ob))...), ob
}

// eachOTPServer runs fn against an otpServer on SQLite and, when
// PARLEY_TEST_POSTGRES_DSN is set, on PostgreSQL.
func eachOTPServer(t *testing.T, fn func(t *testing.T, s *parleytest.Server, ob *parleytest.Outbox)) {
	t.Run("sqlite", func(t *testing.T) {
		s, ob := otpServer(t)
		fn(t, s, ob)
	})
	if os.Getenv(parleytest.PostgresEnv) != "" {
		t.Run("postgres", func(t *testing.T) {
			s, ob := otpServer(t, parleytest.WithDSN(parleytest.NewPostgresDSN(t)))
			fn(t, s, ob)
		})
	}
}

// otpUser creates an ordinary user (no TOTP, no passkey) who adds and
// verifies an e-mail address, so that e-mail codes become their second
// factor. It returns the signed-in client and the address.
func otpUser(ctx context.Context, t *testing.T, s *parleytest.Server, ob *parleytest.Outbox, admin *parleytest.Admin, name string) (*parleytest.User, string) {
	t.Helper()
	u := s.NewUser(ctx, admin, name)
	email := name + "@example.com"
	_, err := u.SetContact(ctx, "email", email)
	expectCode(t, err, "step_up_required") // redirecting codes is sensitive (A6)
	if _, err := u.StepUp(ctx, "password", "", parleytest.Password); err != nil {
		t.Fatal(err)
	}
	sent, err := u.SetContact(ctx, "email", email)
	if err != nil {
		t.Fatal(err)
	}
	if sent.SentTo != name[:1]+"***@example.com" {
		t.Fatalf("sent_to %q is not masked", sent.SentTo)
	}
	if _, err := u.ConfirmContact(ctx, "email", ob.LastCode(email)); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(61 * time.Second) // past the one-a-minute resend limit
	return u, email
}

// codeLogin logs username in on a new device and expects a second-factor
// challenge.
func codeLogin(ctx context.Context, t *testing.T, s *parleytest.Server, username string) (*client.Client, *wire.LoginResponse) {
	t.Helper()
	c := s.Client()
	res, err := c.Login(ctx, username, parleytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if !res.MFARequired || res.MFAToken == "" {
		t.Fatalf("login of %s: no MFA challenge: %+v", username, res)
	}
	return c, res
}

// TestOTPLoginByEmail: an ordinary user logs in with password and an e-mail
// code (A1); the code works once and only for its own login.
func TestOTPLoginByEmail(t *testing.T) {
	eachOTPServer(t, func(t *testing.T, s *parleytest.Server, ob *parleytest.Outbox) {
		ctx := testCtx(t)
		admin := s.SetupAdmin(ctx)
		alice, email := otpUser(ctx, t, s, ob, admin, "alice")

		contacts, err := alice.Contacts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(contacts) != 1 || contacts[0] != (wire.Contact{Channel: "email", Address: "a***@example.com", Verified: true}) {
			t.Fatalf("contacts = %+v (address must be masked, P2)", contacts)
		}

		c, res := codeLogin(ctx, t, s, "alice")
		if !slices.Contains(res.Methods, "email_otp") || slices.Contains(res.Methods, "sms_otp") || slices.Contains(res.Methods, "totp") {
			t.Fatalf("methods = %v", res.Methods)
		}
		// The pre-MFA token opens nothing else (A9).
		pre, _ := client.New(s.URL, client.WithCAFile(s.CAFile), client.WithToken(res.MFAToken))
		_, err = pre.Me(ctx)
		expectCode(t, err, "unauthenticated")

		sent, err := c.SendLoginOTP(ctx, res.MFAToken, "email")
		if err != nil {
			t.Fatal(err)
		}
		if sent.SentTo != "a***@example.com" || sent.Channel != "email" || !sent.ExpiresAt.Equal(s.Clock.Now().Add(5*time.Minute)) {
			t.Fatalf("sent = %+v", sent)
		}
		code := ob.LastCode(email)
		if len(code) != 6 {
			t.Fatalf("code %q", code)
		}
		if _, err := c.CompleteMFA(ctx, res.MFAToken, "email_otp", code); err != nil {
			t.Fatal(err)
		}
		if me, err := c.Me(ctx); err != nil || me.Username != "alice" {
			t.Fatalf("me = %+v, %v", me, err)
		}

		// Reuse: the same token and code again, and the code on another login.
		_, err = s.Client().CompleteMFA(ctx, res.MFAToken, "email_otp", code)
		expectCode(t, err, "unauthenticated")
		c2, res2 := codeLogin(ctx, t, s, "alice")
		_, err = c2.CompleteMFA(ctx, res2.MFAToken, "email_otp", code)
		expectCode(t, err, "unauthenticated")

		// SMS is not configured for this user; unknown channels are invalid.
		_, err = c2.SendLoginOTP(ctx, res2.MFAToken, "sms")
		expectCode(t, err, "invalid")
		_, err = c2.SendLoginOTP(ctx, res2.MFAToken, "pigeon")
		expectCode(t, err, "invalid")
	})
}

// TestOTPWrongCodesVoid: five wrong codes void the code and the pending
// login; the right code is then refused too.
func TestOTPWrongCodesVoid(t *testing.T) {
	s, ob := otpServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	_, email := otpUser(ctx, t, s, ob, admin, "alice")
	c, res := codeLogin(ctx, t, s, "alice")
	if _, err := c.SendLoginOTP(ctx, res.MFAToken, "email"); err != nil {
		t.Fatal(err)
	}
	code := ob.LastCode(email)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 0; i < 5; i++ {
		_, err := c.CompleteMFA(ctx, res.MFAToken, "email_otp", wrong)
		expectCode(t, err, "unauthenticated")
	}
	_, err := c.CompleteMFA(ctx, res.MFAToken, "email_otp", code)
	expectCode(t, err, "unauthenticated")
	_, err = c.SendLoginOTP(ctx, res.MFAToken, "email")
	expectCode(t, err, "unauthenticated") // the pending login is gone
}

// TestOTPExpires: a code is valid for five minutes.
func TestOTPExpires(t *testing.T) {
	s, ob := otpServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	_, email := otpUser(ctx, t, s, ob, admin, "alice")
	c, res := codeLogin(ctx, t, s, "alice")
	if _, err := c.SendLoginOTP(ctx, res.MFAToken, "email"); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(6 * time.Minute)
	_, err := c.CompleteMFA(ctx, res.MFAToken, "email_otp", ob.LastCode(email))
	expectCode(t, err, "unauthenticated")
}

// TestOTPResendLimits: one code a minute and five an hour per user, with
// Retry-After; refused sends send nothing.
func TestOTPResendLimits(t *testing.T) {
	s, ob := otpServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	_, email := otpUser(ctx, t, s, ob, admin, "alice")
	s.Clock.Advance(61 * time.Minute) // the verification code leaves the hourly window

	c, res := codeLogin(ctx, t, s, "alice")
	if _, err := c.SendLoginOTP(ctx, res.MFAToken, "email"); err != nil {
		t.Fatal(err)
	}
	_, err := c.SendLoginOTP(ctx, res.MFAToken, "email")
	expectCode(t, err, "rate_limited")
	if ra := retryAfter(err); ra < 50*time.Second || ra > 60*time.Second {
		t.Fatalf("Retry-After %v, want about a minute", ra)
	}
	for i := 0; i < 4; i++ {
		s.Clock.Advance(61 * time.Second)
		c, res = codeLogin(ctx, t, s, "alice")
		if _, err := c.SendLoginOTP(ctx, res.MFAToken, "email"); err != nil {
			t.Fatalf("send %d: %v", i+2, err)
		}
	}
	s.Clock.Advance(61 * time.Second)
	c, res = codeLogin(ctx, t, s, "alice")
	_, err = c.SendLoginOTP(ctx, res.MFAToken, "email")
	expectCode(t, err, "rate_limited")
	if ra := retryAfter(err); ra < 50*time.Minute {
		t.Fatalf("Retry-After %v, want the rest of the hour", ra)
	}
	if n := ob.Count(email); n != 6 { // verification + five login codes
		t.Fatalf("%d messages sent, want 6", n)
	}
}

func retryAfter(err error) time.Duration {
	var e *client.APIError
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// TestOTPStepUp: a user whose factor is an e-mail code steps up with one
// (A6); the session is replaced and the code works once.
func TestOTPStepUp(t *testing.T) {
	s, ob := otpServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	alice, email := otpUser(ctx, t, s, ob, admin, "alice")
	s.Clock.Advance(6 * time.Minute)
	if _, err := alice.Me(ctx); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(time.Minute) // past the resend gap of the verification code
	err := alice.DeleteContact(ctx, "sms")
	expectCode(t, err, "step_up_required")
	if _, err := alice.SendStepUpOTP(ctx, "email"); err != nil {
		t.Fatal(err)
	}
	code := ob.LastCode(email)
	_, err = alice.StepUpOTP(ctx, "email", "999999x")
	expectCode(t, err, "unauthenticated")
	old := alice.Token()
	if _, err := alice.StepUpOTP(ctx, "email", code); err != nil {
		t.Fatal(err)
	}
	if alice.Token() == old {
		t.Fatal("step-up kept the session ID")
	}
	_, err = alice.StepUpOTP(ctx, "email", code)
	expectCode(t, err, "unauthenticated")
	err = alice.DeleteContact(ctx, "sms")
	expectCode(t, err, "not_found")
}

// TestOTPContacts: a new address works only once confirmed, the old one
// until then; bad addresses are refused; confirming ends other sessions.
func TestOTPContacts(t *testing.T) {
	s, ob := otpServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	alice, email := otpUser(ctx, t, s, ob, admin, "alice")
	for _, bad := range [][2]string{{"email", "Alice <alice@example.com>"}, {"email", "alice@example.com\r\nBcc: x@example.com"},
		{"email", "nobody"}, {"sms", "0044 20 7946 0000"}, {"sms", "+12"}, {"fax", "+41446681800"}} {
		_, err := alice.SetContact(ctx, bad[0], bad[1])
		expectCode(t, err, "invalid")
	}
	s.Clock.Advance(61 * time.Second)
	if _, err := alice.SetContact(ctx, "email", "alice.new@example.com"); err != nil {
		t.Fatal(err)
	}
	contacts, _ := alice.Contacts(ctx)
	if len(contacts) != 1 || contacts[0].Address != "a***@example.com" {
		t.Fatalf("before confirmation: %+v", contacts)
	}
	// A code sent to the old address cannot confirm the new one.
	_, err := alice.ConfirmContact(ctx, "email", ob.LastCode(email))
	expectCode(t, err, "unauthenticated")
	if _, err := alice.ConfirmContact(ctx, "email", ob.LastCode("alice.new@example.com")); err != nil {
		t.Fatal(err)
	}
	contacts, _ = alice.Contacts(ctx)
	if len(contacts) != 1 || contacts[0].Address != "a***@example.com" || !contacts[0].Verified {
		t.Fatalf("after confirmation: %+v", contacts)
	}
	// Codes now go to the new address.
	s.Clock.Advance(61 * time.Second)
	c, res := codeLogin(ctx, t, s, "alice")
	if _, err := c.SendLoginOTP(ctx, res.MFAToken, "email"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMFA(ctx, res.MFAToken, "email_otp", ob.LastCode("alice.new@example.com")); err != nil {
		t.Fatal(err)
	}
}

// TestOTPNotAFactorForAdmins (A10): e-mail and SMS codes never stand in
// for the cryptographic factor that administrative roles must use.
func TestOTPNotAFactorForAdmins(t *testing.T) {
	s, ob := otpServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	if _, err := admin.SetUserContact(ctx, admin.UserID, "email", "admin@example.com"); err != nil {
		t.Fatal(err)
	}
	c, res := codeLogin(ctx, t, s, "admin")
	if slices.Contains(res.Methods, "email_otp") || !slices.Contains(res.Methods, "totp") {
		t.Fatalf("admin methods = %v", res.Methods)
	}
	_, err := c.SendLoginOTP(ctx, res.MFAToken, "email")
	expectCode(t, err, "invalid")
	_, err = c.CompleteMFA(ctx, res.MFAToken, "email_otp", "123456")
	expectCode(t, err, "unauthenticated")
	if n := ob.Count("admin@example.com"); n != 0 {
		t.Fatalf("%d codes sent to an admin", n)
	}

	// An administrator sets an ordinary user's address, verified; it ends
	// the user's sessions and makes codes their second factor.
	bob := s.NewUser(ctx, admin, "bob")
	_, err = bob.SetUserContact(ctx, admin.UserID, "email", "x@example.com")
	expectCode(t, err, "forbidden")
	if _, err := admin.SetUserContact(ctx, bob.UserID, "sms", "+41 44 668 18 00"); err != nil {
		t.Fatal(err)
	}
	_, err = bob.Me(ctx)
	expectCode(t, err, "unauthenticated")
	c, res = codeLogin(ctx, t, s, "bob")
	if !slices.Equal(res.Methods, []string{"sms_otp"}) {
		t.Fatalf("bob methods = %v", res.Methods)
	}
	sent, err := c.SendLoginOTP(ctx, res.MFAToken, "sms")
	if err != nil {
		t.Fatal(err)
	}
	if sent.SentTo != "+*******1800" {
		t.Fatalf("sent_to %q", sent.SentTo)
	}
	if _, err := c.CompleteMFA(ctx, res.MFAToken, "sms_otp", ob.LastCode("+41446681800")); err != nil {
		t.Fatal(err)
	}
	_, err = admin.SetUserContact(ctx, "u_nobody", "email", "x@example.com")
	expectCode(t, err, "not_found")
}

// TestOTPWithoutProvider (P3): with no provider configured nothing is sent
// and codes are not offered.
func TestOTPWithoutProvider(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	u := s.NewUser(ctx, admin, "alice")
	if _, err := u.StepUp(ctx, "password", "", parleytest.Password); err != nil {
		t.Fatal(err)
	}
	_, err := u.SetContact(ctx, "email", "alice@example.com")
	expectCode(t, err, "invalid")
	s.Login(ctx, "alice") // still no second factor: no challenge
}
