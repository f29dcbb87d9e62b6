package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// tokenClient is a client that authenticates with an API token.
func tokenClient(t *testing.T, s *parleytest.Server, token string) *client.Client {
	t.Helper()
	c, err := client.New(s.URL, client.WithCAFile(s.CAFile), client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestServiceAccounts (Z11): a service account is marked, never logs in
// with a password (the answer of a wrong password, audited as denied
// "service account"), holds no administrator role — at creation or by a
// later grant — and works through API tokens: issued once by the system
// admin, good for REST and WebSocket, barred from self-service and
// credential routes, listed with their last use, and dead (401, WebSocket
// closed) once revoked or expired.
func TestServiceAccounts(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		admin := s.SetupAdmin(ctx)
		bob := s.NewUser(ctx, admin, "bob")

		_, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "robot", DisplayName: "Robot", Password: parleytest.Password,
			Kind: "service", Roles: []string{"auditor"}})
		expectStatus(t, err, 403, "forbidden")
		if !auditHas(ctx, t, s, "user.create", "denied", "robot", "service account cannot hold") {
			t.Error("admin role for a service account: refusal not audited")
		}
		_, err = admin.CreateUser(ctx, wire.CreateUserRequest{Username: "robot", DisplayName: "Robot", Kind: "admin"})
		expectStatus(t, err, 400, "invalid")
		botID, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "ci-bot", DisplayName: "CI bot",
			Password: parleytest.Password, Kind: "service"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "no-pass-bot", DisplayName: "Bot", Kind: "service"}); err != nil {
			t.Fatalf("a service account needs no password: %v", err)
		}

		// No interactive login, whatever the password.
		_, errBot := s.Client().Login(ctx, "ci-bot", parleytest.Password)
		_, errWrong := s.Client().Login(ctx, "bob", "Wrong-Password-123!")
		expectStatus(t, errBot, 401, "unauthenticated")
		sameRefusal(t, errBot, errWrong)
		if !auditHas(ctx, t, s, "auth.login", "denied", botID, "service account") {
			t.Error("service-account login not audited as denied")
		}

		stepUp(ctx, t, s, admin)
		acc, err := admin.Account(ctx, botID)
		if err != nil || acc.Kind != "service" || acc.Status != "active" {
			t.Fatalf("account = %+v, %v", acc, err)
		}
		_, err = admin.CreateServiceToken(ctx, bob.UserID, wire.CreateServiceTokenRequest{Name: "nope"})
		expectStatus(t, err, 409, "conflict")
		_, err = admin.CreateServiceToken(ctx, botID, wire.CreateServiceTokenRequest{Name: "ci", ExpiresInDays: 91})
		expectStatus(t, err, 400, "invalid")
		_, err = bob.CreateServiceToken(ctx, botID, wire.CreateServiceTokenRequest{Name: "mine"})
		expectStatus(t, err, 403, "forbidden")
		if !auditHas(ctx, t, s, "api.denied", "denied", "POST /api/v1/users/{id}/tokens", "users.manage") {
			t.Error("a user's token request not audited")
		}
		status, body, _ := newRaw(t, s, admin.Token()).do("POST", "/api/v1/users/"+botID+"/tokens",
			[]byte(`{"name":"ci","token":"chosen-by-me"}`), nil)
		if status != 400 || body.Error.Code != "invalid" {
			t.Fatalf("token with a chosen secret: %d %+v", status, body)
		}

		tok, err := admin.CreateServiceToken(ctx, botID, wire.CreateServiceTokenRequest{Name: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		if len(tok.Token) != 43 || !tok.ExpiresAt.Equal(s.Clock.Now().Add(90*day)) {
			t.Fatalf("token = %+v", tok)
		}
		bot := tokenClient(t, s, tok.Token)
		conv, err := bot.CreateConversation(ctx, "direct", []string{bob.UserID}, "")
		if err != nil {
			t.Fatalf("the token opens REST: %v", err)
		}
		if _, err := bot.Send(ctx, conv, newMsgID(), "build green"); err != nil {
			t.Fatal(err)
		}
		botWS := dial(ctx, t, bot)
		if msgs, err := bob.History(ctx, conv, 0, 10); err != nil || len(msgs) != 1 || msgs[0].SenderID != botID {
			t.Fatalf("bob sees %+v, %v", msgs, err)
		}
		// No self-service and no credential routes with a token.
		_, err = bot.Me(ctx)
		expectStatus(t, err, 403, "forbidden")
		_, err = bot.EnrollTOTP(ctx)
		expectStatus(t, err, 403, "forbidden")
		expectStatus(t, bot.ChangePassword(ctx, parleytest.Password, "Another-Pass-42!"), 403, "forbidden")
		_, err = bot.StepUp(ctx, "password", "", parleytest.Password)
		expectStatus(t, err, 403, "forbidden")
		_, err = bot.BeginPasskeyRegistration(ctx)
		expectStatus(t, err, 403, "forbidden")

		list, err := admin.ServiceTokens(ctx, botID)
		if err != nil || len(list) != 1 || list[0].TokenID != tok.TokenID || list[0].LastUsedAt == nil {
			t.Fatalf("tokens = %+v, %v", list, err)
		}
		if acc, _ := admin.Account(ctx, botID); acc.LastLoginAt == nil {
			t.Error("token use does not count as the account's use")
		}

		// Revoked: 401 at once and the WebSocket closes.
		if err := admin.RevokeServiceToken(ctx, botID, tok.TokenID); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		for err == nil {
			_, err = botWS.Next(wctx)
		}
		cancel()
		if got := client.CloseStatus(err); got != int(websocket.StatusPolicyViolation) {
			t.Fatalf("token WebSocket after revocation: %v (status %d)", err, got)
		}
		_, err = bot.Conversations(ctx)
		expectStatus(t, err, 401, "unauthenticated")
		expectStatus(t, admin.RevokeServiceToken(ctx, botID, tok.TokenID), 404, "not_found")
		expectStatus(t, admin.RevokeServiceToken(ctx, bob.UserID, "st_nothing"), 404, "not_found")
		if !auditHas(ctx, t, s, "user.token_create", "success", botID, "name=ci") ||
			!auditHas(ctx, t, s, "user.token_revoke", "success", botID, tok.TokenID) {
			t.Error("token lifecycle not audited")
		}

		// A later grant of an administrator role is refused too.
		sec, secTOTP := enrolledAdmin(ctx, t, s, admin, "sec", "security_admin")
		if _, err := sec.StepUp(ctx, "totp", s.TOTPCode(secTOTP), ""); err != nil {
			t.Fatal(err)
		}
		_, err = sec.GrantRole(ctx, botID, wire.GrantRoleRequest{Role: "auditor", Reason: "audit bot"})
		expectStatus(t, err, 403, "forbidden")

		// Expired: a one-day token is dead after a day.
		stepUp(ctx, t, s, admin)
		short, err := admin.CreateServiceToken(ctx, botID, wire.CreateServiceTokenRequest{Name: "short", ExpiresInDays: 1})
		if err != nil {
			t.Fatal(err)
		}
		bot.SetToken(short.Token)
		if _, err := bot.Conversations(ctx); err != nil {
			t.Fatal(err)
		}
		s.Clock.Advance(day)
		_, err = bot.Conversations(ctx)
		expectStatus(t, err, 401, "unauthenticated")
	})
}

// TestInactivityDisables (Z11): 90 days without a login and the account
// answers a login like a wrong password at once; the sweep then disables
// it, audited user.disabled_inactive. The only system admin is spared, so
// somebody can still reactivate accounts.
func TestInactivityDisables(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		admin := s.SetupAdmin(ctx)
		alice := s.NewUser(ctx, admin, "alice")
		bob := s.NewUser(ctx, admin, "bob")

		s.Clock.Advance(89 * day)
		login(ctx, t, s, "bob", parleytest.Password) // used within the 90 days
		s.Clock.Advance(2 * day)

		_, errIdle := s.Client().Login(ctx, "alice", parleytest.Password)
		_, errWrong := s.Client().Login(ctx, "bob", "Wrong-Password-123!")
		expectStatus(t, errIdle, 401, "unauthenticated")
		sameRefusal(t, errIdle, errWrong)
		if !auditHas(ctx, t, s, "auth.login", "failure", "", "unused for 90 days") {
			t.Error("the refusal is not audited")
		}
		login(ctx, t, s, "bob", parleytest.Password)

		// The admin is the only system admin: still able to sign in.
		a := s.Client()
		res, err := a.Login(ctx, "admin", parleytest.Password)
		if err != nil || !res.MFARequired {
			t.Fatalf("the last system admin: %+v, %v", res, err)
		}
		if _, err := a.CompleteMFA(ctx, res.MFAToken, "totp", s.TOTPCode(admin.TOTPSecret)); err != nil {
			t.Fatal(err)
		}
		admin.SetToken(a.Token())
		// 91 days: the admin's password has expired too (A3).
		if err := admin.ChangePassword(ctx, parleytest.Password, "Renewed-Pass-91-Ok"); err != nil {
			t.Fatal(err)
		}

		if err := s.Node.Lifecycle.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if !auditHas(ctx, t, s, "user.disabled_inactive", "success", alice.UserID, "unused since") {
			t.Fatal("inactivity disabling not audited")
		}
		stepUp(ctx, t, s, admin)
		acc, err := admin.Account(ctx, alice.UserID)
		if err != nil || acc.Status != "disabled" || acc.DisabledBy != "" {
			t.Fatalf("alice = %+v, %v", acc, err)
		}
		if acc, _ := admin.Account(ctx, bob.UserID); acc.Status != "active" {
			t.Fatalf("bob, who logged in, = %+v", acc)
		}
		// Reactivation starts the 90 days afresh.
		if _, err := admin.Reactivate(ctx, alice.UserID, wire.ReactivateRequest{Password: "Fresh-Start-Pass-9"}); err != nil {
			t.Fatal(err)
		}
		if _, res := login(ctx, t, s, "alice", "Fresh-Start-Pass-9"); len(res.Notices) == 0 {
			t.Fatalf("login after reactivation = %+v", res)
		}
	})
}

// TestEndDate (Z11): an account with an end date expires on it — its
// session is refused right after the date, a login is refused like a wrong
// password, and the sweep disables it (user.expired). Dates in the past,
// one's own date and unknown fields are refused.
func TestEndDate(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		admin := s.SetupAdmin(ctx)
		past := s.Clock.Now().Add(-time.Hour)
		_, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "late", DisplayName: "Late", Password: parleytest.Password, EndDate: &past})
		expectStatus(t, err, 400, "invalid")
		end := s.Clock.Now().Add(30 * day)
		tempID, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "temp", DisplayName: "Temp", Password: parleytest.Password, EndDate: &end})
		if err != nil {
			t.Fatal(err)
		}
		alice := s.NewUser(ctx, admin, "alice")

		stepUp(ctx, t, s, admin)
		if acc, err := admin.Account(ctx, tempID); err != nil || acc.EndDate == nil || !acc.EndDate.Equal(end) {
			t.Fatalf("temp = %+v, %v", acc, err)
		}
		_, err = admin.SetEndDate(ctx, alice.UserID, &past)
		expectStatus(t, err, 400, "invalid")
		_, err = admin.SetEndDate(ctx, admin.UserID, &end)
		expectStatus(t, err, 403, "forbidden")
		_, err = admin.SetEndDate(ctx, "u_nobody", &end)
		expectStatus(t, err, 404, "not_found")
		_, err = alice.SetEndDate(ctx, alice.UserID, nil)
		expectStatus(t, err, 403, "forbidden")

		soon := s.Clock.Now().Add(10 * time.Minute)
		acc, err := admin.SetEndDate(ctx, alice.UserID, &soon)
		if err != nil || acc.EndDate == nil || !acc.EndDate.Equal(soon) {
			t.Fatalf("set end date: %+v, %v", acc, err)
		}
		if !auditHas(ctx, t, s, "user.end_date", "success", alice.UserID, "none → ") {
			t.Error("end date not audited")
		}
		if _, err := alice.Conversations(ctx); err != nil {
			t.Fatal(err)
		}
		s.Clock.Advance(10 * time.Minute)
		_, err = alice.Conversations(ctx)
		expectStatus(t, err, 401, "unauthenticated")
		_, err = s.Client().Login(ctx, "alice", parleytest.Password)
		expectStatus(t, err, 401, "unauthenticated")
		if !auditHas(ctx, t, s, "auth.login", "failure", "", "end date") {
			t.Error("refused login not audited")
		}
		if err := s.Node.Lifecycle.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if !auditHas(ctx, t, s, "user.expired", "success", alice.UserID, "end date") {
			t.Fatal("expiry not audited")
		}
		stepUp(ctx, t, s, admin)
		if acc, _ := admin.Account(ctx, alice.UserID); acc.Status != "disabled" {
			t.Fatalf("alice after the sweep = %+v", acc)
		}
		// Clearing the date of the other account.
		if acc, err := admin.SetEndDate(ctx, tempID, nil); err != nil || acc.EndDate != nil {
			t.Fatalf("clear: %+v, %v", acc, err)
		}
	})
}

// advanceInUse moves the clock by d while username keeps signing in with
// pw (a login every 60 days), so that the inactivity rule (Z11) spares an
// account whose password age a test is about: a login does not change it.
func advanceInUse(ctx context.Context, t *testing.T, s *parleytest.Server, d time.Duration, username, pw string) {
	t.Helper()
	for d > 60*day {
		s.Clock.Advance(60 * day)
		d -= 60 * day
		login(ctx, t, s, username, pw)
	}
	s.Clock.Advance(d)
}
