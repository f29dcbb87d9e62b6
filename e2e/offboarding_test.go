package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/descope/virtualwebauthn"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// stepUp gives the setup admin a fresh second factor (A6): every
// lifecycle operation is sensitive.
func stepUp(ctx context.Context, t *testing.T, s *parleytest.Server, admin *parleytest.Admin) {
	t.Helper()
	if _, err := admin.StepUp(ctx, "totp", s.TOTPCode(admin.TOTPSecret), ""); err != nil {
		t.Fatalf("step-up: %v", err)
	}
}

// sameRefusal fails unless a and b are the same API refusal: status, code
// and message (no enumeration).
func sameRefusal(t *testing.T, a, b error) {
	t.Helper()
	var ea, eb *client.APIError
	if !asAPIError(a, &ea) || !asAPIError(b, &eb) || *ea != *eb {
		t.Fatalf("refusals differ: %v vs %v", a, b)
	}
}

// TestOffboarding: one call disables the leaver at once (Z8): the live
// WebSocket closes within a second of the call returning and the old token
// answers 401; the passkey and TOTP are gone; the leaver is out of every
// conversation while the others keep the history; their group goes to the
// successor; a login fails exactly like a wrong password; everything is
// audited. Reactivation brings back a bare account: a new password to
// change at once, no roles, no conversations.
func TestOffboarding(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		u := newCohort(ctx, t, s)
		admin, alice, bob, carol := u.admin, u.alice, u.bob, u.carol

		phone := newDevice(t, s, virtualwebauthn.AuthenticatorOptions{})
		registerPasskey(ctx, t, alice.Client, phone, "phone")
		group, err := alice.CreateConversation(ctx, "group", []string{bob.UserID, carol.UserID}, "Project X")
		if err != nil {
			t.Fatal(err)
		}
		direct, err := alice.CreateConversation(ctx, "direct", []string{bob.UserID}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := alice.Send(ctx, group, newMsgID(), "alice's last word"); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.Send(ctx, direct, newMsgID(), "see you, bob"); err != nil {
			t.Fatal(err)
		}
		ws := dial(ctx, t, alice.Client)
		bobWS := dial(ctx, t, bob.Client)
		oldToken := alice.Token()

		stepUp(ctx, t, s, admin)
		res, err := admin.Offboard(ctx, alice.UserID, wire.OffboardRequest{SuccessorID: carol.UserID, Reason: "left the company"})
		if err != nil {
			t.Fatal(err)
		}
		// Dead within one second: a deadline, not a sleep.
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		for err == nil {
			_, err = ws.Next(wctx)
		}
		cancel()
		if got := client.CloseStatus(err); got != int(websocket.StatusPolicyViolation) {
			t.Fatalf("WebSocket after offboarding: %v (close status %d), want closed with 1008 within 1 s", err, got)
		}
		old, _ := client.New(s.URL, client.WithCAFile(s.CAFile), client.WithToken(oldToken))
		_, err = old.Conversations(ctx)
		expectStatus(t, err, 401, "unauthenticated")

		if res.Status != "disabled" || res.PasskeysRemoved != 1 || res.TOTPRemoved || len(res.ConversationsLeft) != 2 ||
			len(res.OwnershipTransferred) != 2 {
			t.Fatalf("offboard = %+v", res)
		}
		creds, err := s.Node.Store.ListWebAuthnCredentials(ctx, parley.UserID(alice.UserID))
		if err != nil || len(creds) != 0 {
			t.Fatalf("passkeys after offboarding: %d, %v", len(creds), err)
		}

		// The remaining members' devices hear of it, once per conversation.
		left := map[string]bool{}
		for len(left) < 2 {
			f, _ := nextOfType(ctx, t, bobWS, wire.FrameMemberRemoved)
			if f.UserID != alice.UserID {
				t.Fatalf("member_removed names %q", f.UserID)
			}
			left[f.ConversationID] = true
		}
		if !left[group] || !left[direct] {
			t.Fatalf("member_removed for %v", left)
		}

		// Out of every conversation; the others keep the history.
		convs, err := bob.Conversations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range convs {
			if slices.Contains(c.MemberIDs, alice.UserID) {
				t.Errorf("%s still lists alice: %v", c.ConversationID, c.MemberIDs)
			}
		}
		for conv, body := range map[string]string{group: "alice's last word", direct: "see you, bob"} {
			msgs, err := bob.History(ctx, conv, 0, 50)
			if err != nil || len(msgs) != 1 || msgs[0].Body != body || msgs[0].SenderID != alice.UserID {
				t.Fatalf("bob's history of %s: %+v, %v", conv, msgs, err)
			}
		}
		if msgs, err := carol.History(ctx, group, 0, 50); err != nil || len(msgs) != 1 {
			t.Fatalf("carol's history: %+v, %v", msgs, err)
		}
		c, err := s.Node.Store.ConversationByID(ctx, parley.ConversationID(group))
		if err != nil || c.CreatedBy != parley.UserID(carol.UserID) {
			t.Fatalf("group owner after offboarding: %q, %v", c.CreatedBy, err)
		}
		if _, err := carol.Send(ctx, group, newMsgID(), "carry on"); err != nil {
			t.Fatalf("the group goes on: %v", err)
		}

		// A login fails exactly like a wrong password (no enumeration).
		_, errGone := s.Client().Login(ctx, "alice", parleytest.Password)
		_, errWrong := s.Client().Login(ctx, "bob", "Wrong-Password-123!")
		expectStatus(t, errGone, 401, "unauthenticated")
		sameRefusal(t, errGone, errWrong)

		for _, w := range []struct{ action, reason string }{
			{"user.offboard", "reason=left the company"},
			{"user.offboard_sessions", "sessions ended"},
			{"user.offboard_roles", "user kept"},
			{"user.offboard_credentials", "passkeys=1"},
			{"user.offboard_conversations", "removed from 2 conversations"},
		} {
			if !auditHas(ctx, t, s, w.action, "success", alice.UserID, w.reason) {
				t.Errorf("no audit record %s %q", w.action, w.reason)
			}
		}
		if !auditHas(ctx, t, s, "conversation.owner_transfer", "success", group, "→ "+carol.UserID) {
			t.Error("ownership transfer not audited")
		}
		if !auditHas(ctx, t, s, "auth.login", "failure", "", "account disabled") {
			t.Error("the leaver's login attempt not audited")
		}

		// Again: conflict.
		_, err = admin.Offboard(ctx, alice.UserID, wire.OffboardRequest{})
		expectStatus(t, err, 409, "conflict")

		// Reactivation: explicit, with a new password the policy checks.
		_, err = admin.Reactivate(ctx, alice.UserID, wire.ReactivateRequest{Password: "short"})
		expectStatus(t, err, 400, "invalid")
		acc, err := admin.Reactivate(ctx, alice.UserID, wire.ReactivateRequest{Password: "Back-Again-Pass-42", Reason: "rehired"})
		if err != nil {
			t.Fatal(err)
		}
		if acc.Status != "active" || !slices.Equal(acc.Roles, []string{"user"}) || acc.DisabledAt != nil {
			t.Fatalf("reactivated = %+v", acc)
		}
		back, lr := login(ctx, t, s, "alice", "Back-Again-Pass-42")
		if lr.MFARequired || !slices.Contains(lr.Notices, "password_expired") {
			t.Fatalf("login after reactivation = %+v", lr)
		}
		_, err = back.Conversations(ctx)
		expectCode(t, err, "password_change_required")
		if err := back.ChangePassword(ctx, "Back-Again-Pass-42", "Her-Own-Pass-77!"); err != nil {
			t.Fatal(err)
		}
		convs, err = back.Conversations(ctx)
		if err != nil || len(convs) != 0 {
			t.Fatalf("memberships came back: %+v, %v", convs, err)
		}
		// A direct conversation with bob is a new one, not the old history.
		fresh, err := bob.CreateConversation(ctx, "direct", []string{alice.UserID}, "")
		if err != nil || fresh == direct {
			t.Fatalf("new direct conversation = %q (old %q), %v", fresh, direct, err)
		}
		if msgs, _ := back.History(ctx, fresh, 0, 50); len(msgs) != 0 {
			t.Fatalf("the old history leaked into the new conversation: %+v", msgs)
		}
		if !auditHas(ctx, t, s, "user.reactivate", "success", alice.UserID, "reason=rehired") {
			t.Error("reactivation not audited")
		}
	})
}

// TestOffboardingRefusals: bad input gets a 4xx in the error shape and
// changes nothing — unknown fields (mass assignment), unknown IDs (404),
// oneself (403), anyone but the system admin (403), no step-up (403 step-up
// required); refusals of who may act are audited.
func TestOffboardingRefusals(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	u := newCohort(ctx, t, s)
	admin, alice := u.admin, u.alice

	s.Clock.Advance(6 * time.Minute) // past the step-up window of the enrolment
	_, err := admin.Offboard(ctx, alice.UserID, wire.OffboardRequest{})
	expectStatus(t, err, 403, "step_up_required")
	stepUp(ctx, t, s, admin)

	r := newRaw(t, s, admin.Token())
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/api/v1/users/" + alice.UserID + "/offboard", `{"status":"active"}`, 400, "invalid"},
		{"POST", "/api/v1/users/" + alice.UserID + "/offboard", `{"successor_id":1}`, 400, "invalid"},
		{"POST", "/api/v1/users/" + alice.UserID + "/reactivate", `{"password":"Xx-123456789!","roles":["system_admin"]}`, 400, "invalid"},
		{"PUT", "/api/v1/users/" + alice.UserID + "/end-date", `{"end_date":"tomorrow"}`, 400, "invalid"},
		{"PUT", "/api/v1/users/" + alice.UserID + "/end-date", `{"end_date":null,"status":"disabled"}`, 400, "invalid"},
		{"POST", "/api/v1/users/u_nobody/offboard", `{}`, 404, "not_found"},
		{"POST", "/api/v1/users/" + alice.UserID + "/offboard", `{"successor_id":"u_nobody"}`, 404, "not_found"},
		{"GET", "/api/v1/users/u_nobody/account", ``, 404, "not_found"},
		{"POST", "/api/v1/users/" + admin.UserID + "/offboard", `{}`, 403, "forbidden"},
		{"POST", "/api/v1/users/" + alice.UserID + "/reactivate", `{"password":"Xx-123456789!"}`, 409, "conflict"},
	} {
		status, body, _ := r.do(c.method, c.path, []byte(c.body), nil)
		if status != c.status || body.Error.Code != c.code {
			t.Errorf("%s %s %s: %d %+v, want %d %s", c.method, c.path, c.body, status, body.Error, c.status, c.code)
		}
	}
	if !auditHas(ctx, t, s, "user.offboard", "denied", admin.UserID, "your own account") {
		t.Error("self-offboarding not audited")
	}

	// Not the system admin: refused at the router and audited.
	_, err = alice.Offboard(ctx, u.bob.UserID, wire.OffboardRequest{})
	expectStatus(t, err, 403, "forbidden")
	if !auditHas(ctx, t, s, "api.denied", "denied", "POST /api/v1/users/{id}/offboard", "users.manage") {
		t.Error("a user's offboarding attempt not audited")
	}
	for _, who := range []*parleytest.User{alice, u.bob} {
		if _, err := who.Conversations(ctx); err != nil {
			t.Fatalf("%s was touched by a refused request: %v", who.Username, err)
		}
	}
}
