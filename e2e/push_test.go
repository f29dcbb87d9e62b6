package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// totpUser creates an ordinary user and enrols TOTP on a first device,
// which stays signed in (with a second factor) and can approve logins.
func totpUser(ctx context.Context, t *testing.T, s *parleytest.Server, admin *parleytest.Admin, name string) (*parleytest.User, string) {
	t.Helper()
	u := s.NewUser(ctx, admin, name)
	enr, err := u.EnrollTOTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.ConfirmTOTP(ctx, s.TOTPCode(enr.Secret)); err != nil {
		t.Fatal(err)
	}
	return u, enr.Secret
}

// nextPush reads frames until a push frame of type typ arrives.
func nextPush(ctx context.Context, t *testing.T, c *client.Conn, typ string) *wire.PushFrame {
	t.Helper()
	for {
		f, p, err := c.NextPush(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if f.Type == typ {
			return p
		}
	}
}

func otherNumber(n int) int { return 10 + (n-10+1)%90 }

// TestPushApproval: a login on a new device is approved from the signed-in
// device over its WebSocket with number matching (A1); the new device gets
// its session once, and no other user sees the request.
func TestPushApproval(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		admin := s.SetupAdmin(ctx)
		bob, _ := totpUser(ctx, t, s, admin, "bob")
		carol := s.NewUser(ctx, admin, "carol")
		phone := dial(ctx, t, bob.Client)
		carolWS := dial(ctx, t, carol.Client)

		laptop, err := client.New(s.URL, client.WithCAFile(s.CAFile), client.WithUserAgent("bob-laptop/1.0"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := laptop.Login(ctx, "bob", parleytest.Password)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(res.Methods, "push") || !slices.Contains(res.Methods, "totp") {
			t.Fatalf("methods = %v", res.Methods)
		}
		begun, err := laptop.BeginPush(ctx, res.MFAToken)
		if err != nil {
			t.Fatal(err)
		}
		if begun.Number < 10 || begun.Number > 99 || begun.RequestID == "" {
			t.Fatalf("begun = %+v", begun)
		}

		req := nextPush(ctx, t, phone, wire.FramePushRequest)
		if req.RequestID != begun.RequestID || req.IP != "127.0.0.1" || req.Location != "loopback" ||
			req.UserAgent != "bob-laptop/1.0" || req.CreatedAt == nil || !req.CreatedAt.Equal(s.Clock.Now()) {
			t.Fatalf("push_request frame = %+v", req)
		}

		poll, err := laptop.PollPush(ctx, res.MFAToken, begun.RequestID)
		if err != nil || poll.Status != "pending" || laptop.Token() != "" {
			t.Fatalf("poll before approval = %+v, %v", poll, err)
		}
		// The pre-MFA token cannot approve its own login (A9), nor can
		// another user (not_found, Z6).
		pre, _ := client.New(s.URL, client.WithCAFile(s.CAFile), client.WithToken(res.MFAToken))
		expectCode(t, pre.ApprovePush(ctx, begun.RequestID, begun.Number), "unauthenticated")
		expectCode(t, carol.ApprovePush(ctx, begun.RequestID, begun.Number), "not_found")
		expectCode(t, bob.ApprovePush(ctx, begun.RequestID, 7), "invalid") // not a two-digit number: nothing changes

		if err := bob.ApprovePush(ctx, begun.RequestID, begun.Number); err != nil {
			t.Fatal(err)
		}
		if r := nextPush(ctx, t, phone, wire.FramePushResolved); r.RequestID != begun.RequestID || r.Status != "approved" {
			t.Fatalf("push_resolved = %+v", r)
		}
		expectCode(t, bob.ApprovePush(ctx, begun.RequestID, begun.Number), "conflict")
		poll, err = laptop.PollPush(ctx, res.MFAToken, begun.RequestID)
		if err != nil || poll.Status != "approved" || poll.Token == "" || laptop.Token() != poll.Token {
			t.Fatalf("poll after approval = %+v, %v", poll, err)
		}
		if me, err := laptop.Me(ctx); err != nil || me.Username != "bob" {
			t.Fatalf("me = %+v, %v", me, err)
		}
		// The approval is used once.
		_, err = s.Client().PollPush(ctx, res.MFAToken, begun.RequestID)
		expectCode(t, err, "unauthenticated")

		// Carol's WebSocket saw none of it: her first frame is this message.
		conv, err := bob.CreateConversation(ctx, "direct", []string{carol.UserID}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.Send(ctx, conv, newMsgID(), "hello"); err != nil {
			t.Fatal(err)
		}
		f, p, err := carolWS.NextPush(ctx)
		if err != nil || f.Type != wire.FrameMessage || p != nil {
			t.Fatalf("carol's first frame = %+v, %+v, %v", f, p, err)
		}
	})
}

// TestPushWrongNumberDenies: a wrong number denies the request and voids
// the pending login (MFA fatigue: a reflex approval does not let anyone in).
func TestPushWrongNumberDenies(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	bob, secret := totpUser(ctx, t, s, admin, "bob")
	phone := dial(ctx, t, bob.Client)
	laptop, res := codeLogin(ctx, t, s, "bob")
	begun, err := laptop.BeginPush(ctx, res.MFAToken)
	if err != nil {
		t.Fatal(err)
	}
	nextPush(ctx, t, phone, wire.FramePushRequest)
	expectCode(t, bob.ApprovePush(ctx, begun.RequestID, otherNumber(begun.Number)), "forbidden")
	if r := nextPush(ctx, t, phone, wire.FramePushResolved); r.Status != "denied" {
		t.Fatalf("push_resolved = %+v", r)
	}
	_, err = laptop.PollPush(ctx, res.MFAToken, begun.RequestID)
	expectCode(t, err, "unauthenticated")
	// The right number is too late, and so is any other factor.
	expectCode(t, bob.ApprovePush(ctx, begun.RequestID, begun.Number), "conflict")
	_, err = laptop.CompleteMFA(ctx, res.MFAToken, "totp", s.TOTPCode(secret))
	expectCode(t, err, "unauthenticated")
}

// TestPushDeny: the user denies; the new device is refused.
func TestPushDeny(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	bob, _ := totpUser(ctx, t, s, admin, "bob")
	laptop, res := codeLogin(ctx, t, s, "bob")
	begun, err := laptop.BeginPush(ctx, res.MFAToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.DenyPush(ctx, begun.RequestID); err != nil {
		t.Fatal(err)
	}
	_, err = laptop.PollPush(ctx, res.MFAToken, begun.RequestID)
	expectCode(t, err, "unauthenticated")
	expectCode(t, bob.DenyPush(ctx, begun.RequestID), "conflict")
	expectCode(t, bob.DenyPush(ctx, "push_nonexistent"), "not_found")
}

// TestPushExpires: an unanswered request expires with the pending login.
func TestPushExpires(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	bob, _ := totpUser(ctx, t, s, admin, "bob")
	laptop, res := codeLogin(ctx, t, s, "bob")
	begun, err := laptop.BeginPush(ctx, res.MFAToken)
	if err != nil {
		t.Fatal(err)
	}
	if !begun.ExpiresAt.Equal(s.Clock.Now().Add(5 * time.Minute)) {
		t.Fatalf("expires_at %v", begun.ExpiresAt)
	}
	s.Clock.Advance(4 * time.Minute)
	if _, err := bob.Me(ctx); err != nil { // keep the phone's session alive
		t.Fatal(err)
	}
	s.Clock.Advance(2 * time.Minute)
	_, err = laptop.PollPush(ctx, res.MFAToken, begun.RequestID)
	expectCode(t, err, "unauthenticated")
	expectCode(t, bob.ApprovePush(ctx, begun.RequestID, begun.Number), "conflict")
}

// TestPushLimits: push needs a signed-in device, and one login may prompt
// the user's devices at most three times.
func TestPushLimits(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	bob, _ := totpUser(ctx, t, s, admin, "bob")
	laptop, res := codeLogin(ctx, t, s, "bob")
	for i := 0; i < 3; i++ {
		if _, err := laptop.BeginPush(ctx, res.MFAToken); err != nil {
			t.Fatal(err)
		}
	}
	_, err := laptop.BeginPush(ctx, res.MFAToken)
	expectCode(t, err, "rate_limited")

	// Once the only signed-in device logs out, push is no longer offered.
	if err := bob.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	laptop, res = codeLogin(ctx, t, s, "bob")
	if slices.Contains(res.Methods, "push") {
		t.Fatalf("methods = %v", res.Methods)
	}
	_, err = laptop.BeginPush(ctx, res.MFAToken)
	expectCode(t, err, "invalid")
	// Bad and foreign poll arguments get the one uniform answer.
	_, err = laptop.PollPush(ctx, res.MFAToken, "push_nonexistent")
	expectCode(t, err, "unauthenticated")
}

// TestPushAudited: every step of push approval and of one-time codes
// leaves an audit record (L1): request, approval, denial by the user and by
// a wrong number, expiry, and codes sent.
func TestPushAudited(t *testing.T) {
	s, ob := otpServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	auditor, _ := enrolledAdmin(ctx, t, s, admin, "aud", "auditor")
	bob, _ := totpUser(ctx, t, s, admin, "bob")
	_, _ = otpUser(ctx, t, s, ob, admin, "alice")

	approve := func(deny bool, number func(int) int) string {
		laptop, res := codeLogin(ctx, t, s, "bob")
		b, err := laptop.BeginPush(ctx, res.MFAToken)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case deny:
			err = bob.DenyPush(ctx, b.RequestID)
		case number != nil:
			err = bob.ApprovePush(ctx, b.RequestID, number(b.Number))
		}
		_ = err
		return b.RequestID
	}
	approved := approve(false, func(n int) int { return n })
	denied := approve(true, nil)
	wrong := approve(false, otherNumber)
	expired := approve(false, nil)
	s.Clock.Advance(6 * time.Minute)
	if err := s.Node.OTP.Sweep(ctx); err != nil {
		t.Fatal(err)
	}

	recs, err := auditor.Audit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	has := func(action, target, result, reasonPart string) {
		t.Helper()
		for _, r := range recs {
			if r.Action == action && (target == "" || r.Target == target) && r.Result == result &&
				strings.Contains(r.Reason, reasonPart) {
				return
			}
		}
		t.Errorf("no audit record %s %s %s %q", action, target, result, reasonPart)
	}
	for _, id := range []string{approved, denied, wrong, expired} {
		has("auth.push_request", id, "success", "loopback")
	}
	has("auth.push_approve", approved, "success", "")
	has("auth.push_deny", denied, "denied", "denied by the user")
	has("auth.push_deny", wrong, "denied", "wrong number")
	has("auth.push_expire", expired, "failure", "expired")
	has("auth.otp_send", "", "success", "contact email to a***@example.com")
	has("auth.contact_verify", "email", "success", "a***@example.com")
	for _, r := range recs {
		if strings.Contains(r.Reason, "alice@example.com") {
			t.Errorf("full address in the audit trail: %+v", r)
		}
	}
}

// TestPushPendingForLateDevice: a device that connects after the
// push_request frame went out lists the open request (never its number),
// approves it with the number from the new device, and the list empties;
// another user sees none of it.
func TestPushPendingForLateDevice(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	bob, _ := totpUser(ctx, t, s, admin, "bob")
	carol, _ := totpUser(ctx, t, s, admin, "carol")
	laptop, res := codeLogin(ctx, t, s, "bob")
	begun, err := laptop.BeginPush(ctx, res.MFAToken)
	if err != nil {
		t.Fatal(err)
	}
	// bob's phone was offline when the frame went out; it asks.
	list, err := bob.PendingPush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].RequestID != begun.RequestID || list[0].Type != wire.FramePushRequest ||
		list[0].Location == "" || list[0].ExpiresAt == nil {
		t.Fatalf("pending = %+v", list)
	}
	if other, err := carol.PendingPush(ctx); err != nil || len(other) != 0 {
		t.Fatalf("carol sees bob's request: %+v %v", other, err)
	}
	if err := bob.ApprovePush(ctx, begun.RequestID, begun.Number); err != nil {
		t.Fatal(err)
	}
	if list, err := bob.PendingPush(ctx); err != nil || len(list) != 0 {
		t.Fatalf("after approval: %+v %v", list, err)
	}
	if _, err := laptop.PollPush(ctx, res.MFAToken, begun.RequestID); err != nil {
		t.Fatal(err)
	}
	// An expired request is not listed.
	laptop2, res2 := codeLogin(ctx, t, s, "bob")
	if _, err := laptop2.BeginPush(ctx, res2.MFAToken); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(6 * time.Minute)
	if list, err := bob.PendingPush(ctx); err != nil || len(list) != 0 {
		t.Fatalf("after expiry: %+v %v", list, err)
	}
}
