package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// supervisionWorld is an organisation with departments A (and A1 below
// it) and B, users in them, a department admin of A and the other
// administrators, set up through the setup administrator's bootstrap
// grants.
type supervisionWorld struct {
	s                 *parleytest.Server
	admin             *parleytest.Admin
	depA, depA1, depB string
	// alice is in A1 (below A), dave in A, bob and carol in B.
	alice, dave, bob, carol *parleytest.User
	// dana is department_admin of A; audrey an auditor; ulla holds
	// department_admin of A and auditor; sec the security admin.
	dana, audrey, ulla, sec                         *client.Client
	danaSecret, audreySecret, ullaSecret, secSecret string
}

func newSupervisionWorld(ctx context.Context, t *testing.T, s *parleytest.Server) *supervisionWorld {
	t.Helper()
	w := &supervisionWorld{s: s, admin: s.SetupAdmin(ctx)}
	dep := func(name, parent string) string {
		d, err := w.admin.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: name, ParentID: parent})
		if err != nil {
			t.Fatal(err)
		}
		return d.DepartmentID
	}
	w.depA = dep("Sales", "")
	w.depA1 = dep("Sales East", w.depA)
	w.depB = dep("Engineering", "")
	user := func(name, dept string) *parleytest.User {
		id, err := w.admin.CreateUser(ctx, wire.CreateUserRequest{Username: name, DisplayName: "User " + name,
			Password: parleytest.Password, DepartmentID: dept})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return &parleytest.User{Client: s.Login(ctx, name), UserID: id, Username: name}
	}
	w.alice, w.dave, w.bob, w.carol = user("alice", w.depA1), user("dave", w.depA), user("bob", w.depB), user("carol", w.depB)
	// Granting administrative roles needs the setup admin's step-up.
	if _, err := w.admin.StepUp(ctx, "totp", s.TOTPCode(w.admin.TOTPSecret), ""); err != nil {
		t.Fatal(err)
	}
	enrolled := func(name, dept string, roles ...string) (*client.Client, string) {
		if _, err := w.admin.CreateUser(ctx, wire.CreateUserRequest{Username: name, DisplayName: name, Password: parleytest.Password,
			DepartmentID: dept, Roles: roles}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		c := s.Login(ctx, name)
		enr, err := c.EnrollTOTP(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ConfirmTOTP(ctx, s.TOTPCode(enr.Secret)); err != nil {
			t.Fatal(err)
		}
		return c, enr.Secret
	}
	w.dana, w.danaSecret = enrolled("dana", w.depA, "department_admin")
	w.audrey, w.audreySecret = enrolled("audrey", "", "auditor")
	w.ulla, w.ullaSecret = enrolled("ulla", w.depA, "department_admin", "auditor")
	w.sec, w.secSecret = enrolled("sec", "", "security_admin") // ends the bootstrap
	return w
}

// stepUp gives c a fresh second factor (A6).
func (w *supervisionWorld) stepUp(ctx context.Context, t *testing.T, c *client.Client, secret string) {
	t.Helper()
	if _, err := c.StepUp(ctx, "totp", w.s.TOTPCode(secret), ""); err != nil {
		t.Fatalf("step-up: %v", err)
	}
}

// pass moves the clock by d in steps short of the idle timeout (A5),
// keeping every session of the world alive (d must stay below the
// absolute lifetime of 12 hours).
func (w *supervisionWorld) pass(ctx context.Context, t *testing.T, d time.Duration) {
	t.Helper()
	keep := []*client.Client{w.admin.Client, w.alice.Client, w.dave.Client, w.bob.Client, w.carol.Client,
		w.dana, w.audrey, w.ulla, w.sec}
	for d > 0 {
		step := min(d, 10*time.Minute)
		w.s.Clock.Advance(step)
		d -= step
		for _, c := range keep {
			if _, err := c.Me(ctx); err != nil {
				t.Fatalf("keeping a session alive: %v", err)
			}
		}
	}
}

func supSend(ctx context.Context, t *testing.T, c *parleytest.User, conv, body string) *wire.SendResponse {
	t.Helper()
	res, err := c.Send(ctx, conv, newMsgID(), body)
	if err != nil {
		t.Fatalf("%s sends: %v", c.Username, err)
	}
	return res
}

// auditRecords returns every audit record with the given action.
func supAuditRecords(ctx context.Context, t *testing.T, auditor *client.Client, action string) []wire.AuditRecord {
	t.Helper()
	var out []wire.AuditRecord
	var after int64
	for {
		recs, err := auditor.Audit(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Action == action {
				out = append(out, r)
			}
			after = r.Seq
		}
		if len(recs) < 1000 {
			return out
		}
	}
}

// TestSupervisedAccess: a department admin of A, with a stated reason and
// a fresh step-up, reads a conversation between a member of A's subtree
// and an outsider, marked as supervised and audited with the reason; other
// departments and conversations without a member of A are not found;
// recall destroys the body for everyone; mute blocks sending until it ends;
// access ends when it expires or is ended (Z3, D3, A6).
func TestSupervisedAccess(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		w := newSupervisionWorld(ctx, t, s)
		convAB, err := w.alice.CreateConversation(ctx, "direct", []string{w.bob.UserID}, "")
		if err != nil {
			t.Fatal(err)
		}
		convB, err := w.bob.CreateConversation(ctx, "direct", []string{w.carol.UserID}, "")
		if err != nil {
			t.Fatal(err)
		}
		supSend(ctx, t, w.alice, convAB, "the Q3 numbers are in the shared drive")
		supSend(ctx, t, w.bob, convAB, "thanks, got them")
		supSend(ctx, t, w.bob, convB, "lunch?")

		const reason = "HR case 2026-114: suspected disclosure of customer data"
		// A stale second factor is refused (A6); so is a request
		// without a reason, whatever else it says.
		w.pass(ctx, t, 6*time.Minute)
		_, err = w.dana.OpenSupervision(ctx, w.depA, reason, "", 0)
		expectCode(t, err, "step_up_required")
		w.stepUp(ctx, t, w.dana, w.danaSecret)
		for _, bad := range []string{"", "   ", "too short", "line\nbreak in the reason", strings.Repeat("x", 501)} {
			_, err = w.dana.OpenSupervision(ctx, w.depA, bad, "", 0)
			expectCode(t, err, "invalid")
		}
		_, err = w.dana.OpenSupervision(ctx, w.depA, reason, "has space", 0)
		expectCode(t, err, "invalid")
		_, err = w.dana.OpenSupervision(ctx, w.depA, reason, "", 481)
		expectCode(t, err, "invalid")
		// Another department and a made-up one look the same (Z6).
		_, err = w.dana.OpenSupervision(ctx, w.depB, reason, "", 0)
		expectCode(t, err, "not_found")
		_, err = w.dana.OpenSupervision(ctx, "d_doesnotexist", reason, "", 0)
		expectCode(t, err, "not_found")

		opened, err := w.dana.OpenSupervision(ctx, w.depA, reason, "HR-114", 120)
		if err != nil {
			t.Fatal(err)
		}
		if opened.Status != "active" || !opened.ExpiresAt.Equal(s.Clock.Now().Add(2*time.Hour)) {
			t.Fatalf("opened: %+v", opened)
		}
		sid := opened.SupervisionID

		// The conversations of A's subtree: alice (in A1) talks to bob;
		// bob and carol's conversation has nobody from A.
		list, err := w.dana.SupervisedConversations(ctx, sid, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if !list.Supervised || list.SupervisionID != sid || len(list.Conversations) != 1 || list.Conversations[0].ConversationID != convAB {
			t.Fatalf("supervised conversations: %+v", list)
		}
		hist, err := w.dana.SupervisedHistory(ctx, sid, convAB, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !hist.Supervised || hist.SupervisionID != sid || hist.ConversationID != convAB || len(hist.Messages) != 2 ||
			hist.Messages[0].Body != "the Q3 numbers are in the shared drive" || hist.Messages[1].SenderID != w.bob.UserID {
			t.Fatalf("supervised history: %+v", hist)
		}
		_, err = w.dana.SupervisedHistory(ctx, sid, convB, 0, 0)
		expectCode(t, err, "not_found")
		_, err = w.dana.SupervisedHistory(ctx, sid, "c_doesnotexist", 0, 0)
		expectCode(t, err, "not_found")
		_, err = w.dana.SupervisedHistory(ctx, sid, convAB, 0, 201)
		expectCode(t, err, "invalid")
		// A grant is its holder's alone: to anyone else it does not exist.
		w.stepUp(ctx, t, w.ulla, w.ullaSecret)
		_, err = w.ulla.SupervisedHistory(ctx, sid, convAB, 0, 0)
		expectCode(t, err, "not_found")
		// An ordinary member has no supervision at all.
		_, err = w.alice.SupervisedHistory(ctx, sid, convAB, 0, 0)
		expectCode(t, err, "forbidden")

		// Every read is an audit record naming the conversation, the
		// grant and the reason (D3); the refusals are recorded too.
		reads := supAuditRecords(ctx, t, w.audrey, "supervision.read")
		var ok, denied int
		for _, r := range reads {
			switch {
			case r.Result == "success" && r.Target == convAB && r.ActorID != "" &&
				strings.Contains(r.Reason, sid) && strings.Contains(r.Reason, reason) && strings.Contains(r.Reason, "ticket=HR-114"):
				ok++
			case r.Result == "denied":
				denied++
			}
		}
		if ok != 1 || denied < 3 {
			t.Errorf("supervision.read records: %d with the reason, %d denied: %+v", ok, denied, reads)
		}
		opens := supAuditRecords(ctx, t, w.audrey, "supervision.open")
		var openOK, openDenied bool
		for _, r := range opens {
			openOK = openOK || (r.Result == "success" && r.Target == sid && strings.Contains(r.Reason, reason))
			openDenied = openDenied || (r.Result == "denied" && r.Target == w.depB)
		}
		if !openOK || !openDenied {
			t.Errorf("supervision.open records: %+v", opens)
		}
		if recs := supAuditRecords(ctx, t, w.audrey, "supervision.list"); len(recs) != 1 || !strings.Contains(recs[0].Reason, reason) {
			t.Errorf("supervision.list records: %+v", recs)
		}

		// Recall: the members' connections are told, the body is gone for
		// everyone (history and sync), and gone from the store.
		aliceWS := dial(ctx, t, w.alice.Client)
		if err := aliceWS.Sync(ctx, map[string]int64{convAB: 2}); err != nil {
			t.Fatal(err)
		}
		nextOfType(ctx, t, aliceWS, wire.FrameSynced)
		if err := w.dana.RecallMessage(ctx, sid, convAB, 1); err != nil {
			t.Fatal(err)
		}
		f, _ := nextOfType(ctx, t, aliceWS, wire.FrameRecalled)
		if f.ConversationID != convAB || f.Seq != 1 {
			t.Errorf("recalled frame: %+v", f)
		}
		msgs, err := w.bob.History(ctx, convAB, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2 || !msgs[0].Recalled || msgs[0].Body != "" || msgs[1].Recalled || msgs[1].Body != "thanks, got them" {
			t.Errorf("history after recall: %+v", msgs)
		}
		if err := aliceWS.Sync(ctx, map[string]int64{convAB: 0}); err != nil {
			t.Fatal(err)
		}
		synced := readMessages(ctx, t, aliceWS, 2)
		if !synced[0].Recalled || synced[0].Body != "" || synced[0].Seq != 1 || synced[1].Recalled {
			t.Errorf("sync after recall: %+v", synced)
		}
		stored, err := s.Node.Store.MessagesAfter(ctx, parley.ConversationID(convAB), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored[0].Sealed) != 0 || stored[0].RecalledAt.IsZero() || string(stored[0].RecalledBy) == "" || len(stored[1].Sealed) == 0 {
			t.Errorf("stored after recall: sealed %d bytes, recalled %v by %q", len(stored[0].Sealed), stored[0].RecalledAt, stored[0].RecalledBy)
		}
		hist, err = w.dana.SupervisedHistory(ctx, sid, convAB, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !hist.Messages[0].Recalled || hist.Messages[0].Body != "" {
			t.Errorf("supervised history after recall: %+v", hist.Messages[0])
		}
		expectCode(t, w.dana.RecallMessage(ctx, sid, convAB, 1), "conflict")
		expectCode(t, w.dana.RecallMessage(ctx, sid, convAB, 99), "not_found")
		expectCode(t, w.dana.RecallMessage(ctx, sid, convB, 1), "not_found")
		if recs := supAuditRecords(ctx, t, w.audrey, "supervision.recall"); len(recs) != 4 || recs[0].Result != "success" ||
			recs[0].Target != convAB+"#1" || !strings.Contains(recs[0].Reason, reason) {
			t.Errorf("supervision.recall records: %+v", recs)
		}

		// Mute: alice (A1) cannot send in that conversation, by REST or
		// WebSocket, until the mute ends; bob can. Only members of the
		// supervised department can be muted, and only in the
		// conversation they are in.
		muted, err := w.dana.MuteMember(ctx, sid, convAB, w.alice.UserID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if !muted.Supervised || muted.UserID != w.alice.UserID || !muted.MutedUntil.Equal(s.Clock.Now().Add(10*time.Minute)) {
			t.Errorf("mute: %+v", muted)
		}
		_, err = w.alice.Send(ctx, convAB, newMsgID(), "can I still talk?")
		expectCode(t, err, "forbidden")
		if !strings.Contains(err.Error(), "muted") {
			t.Errorf("mute refusal does not say so: %v", err)
		}
		_, _, err = aliceWS.SendAndWaitAck(ctx, convAB, newMsgID(), "over the socket?")
		expectCode(t, err, "forbidden")
		supSend(ctx, t, w.bob, convAB, "bob is not muted")
		_, err = w.dana.MuteMember(ctx, sid, convAB, w.bob.UserID, 10)
		expectCode(t, err, "forbidden")
		_, err = w.dana.MuteMember(ctx, sid, convAB, w.dave.UserID, 10)
		expectCode(t, err, "not_found")
		_, err = w.dana.MuteMember(ctx, sid, convAB, w.alice.UserID, 0)
		expectCode(t, err, "invalid")
		w.pass(ctx, t, 11*time.Minute)
		supSend(ctx, t, w.alice, convAB, "back again")
		if recs := supAuditRecords(ctx, t, w.audrey, "supervision.mute"); len(recs) < 1 || recs[0].Result != "success" ||
			!strings.Contains(recs[0].Reason, "user="+w.alice.UserID) {
			t.Errorf("supervision.mute records: %+v", recs)
		}

		// The subtree is read at each request: when alice's department A1
		// moves under B, her conversation leaves A's supervision at once.
		if _, err := w.admin.UpdateDepartment(ctx, w.depA1, wire.UpdateDepartmentRequest{ParentID: &w.depB}); err != nil {
			t.Fatal(err)
		}
		w.stepUp(ctx, t, w.dana, w.danaSecret)
		_, err = w.dana.SupervisedHistory(ctx, sid, convAB, 0, 0)
		expectCode(t, err, "not_found")
		if _, err := w.admin.UpdateDepartment(ctx, w.depA1, wire.UpdateDepartmentRequest{ParentID: &w.depA}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.dana.SupervisedHistory(ctx, sid, convAB, 0, 0); err != nil {
			t.Fatalf("after moving back: %v", err)
		}

		// Expiry: the two hours run out.
		w.pass(ctx, t, 2*time.Hour)
		w.stepUp(ctx, t, w.dana, w.danaSecret)
		_, err = w.dana.SupervisedHistory(ctx, sid, convAB, 0, 0)
		expectCode(t, err, "forbidden")
		_, err = w.dana.SupervisedConversations(ctx, sid, "", 0)
		expectCode(t, err, "forbidden")
		mine, err := w.dana.Supervisions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(mine) != 1 || mine[0].Status != "expired" || mine[0].Reason != reason || mine[0].TicketID != "HR-114" {
			t.Errorf("own grants after expiry: %+v", mine)
		}
		expectCode(t, w.dana.EndSupervision(ctx, sid), "conflict")
		w.stepUp(ctx, t, w.ulla, w.ullaSecret)

		// Ending early: a new grant, ended at once.
		again, err := w.dana.OpenSupervision(ctx, w.depA1, "Follow-up on HR case 2026-114", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.dana.EndSupervision(ctx, again.SupervisionID); err != nil {
			t.Fatal(err)
		}
		_, err = w.dana.SupervisedHistory(ctx, again.SupervisionID, convAB, 0, 0)
		expectCode(t, err, "forbidden")
		expectCode(t, w.ulla.EndSupervision(ctx, again.SupervisionID), "not_found")
	})
}

// TestSupervisionApproval: with the policy requiring approval, a grant
// waits for an auditor; nobody approves their own request; the approved
// duration starts at approval; a denied request never opens (Z3, Z5).
func TestSupervisionApproval(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		w := newSupervisionWorld(ctx, t, s)
		conv, err := w.dave.CreateConversation(ctx, "direct", []string{w.bob.UserID}, "")
		if err != nil {
			t.Fatal(err)
		}
		supSend(ctx, t, w.dave, conv, "hello from sales")

		w.stepUp(ctx, t, w.sec, w.secSecret)
		if p, err := w.sec.SupervisionPolicy(ctx); err != nil || p.RequireApproval {
			t.Fatalf("default policy: %+v, %v", p, err)
		}
		if _, err := w.sec.SetSupervisionPolicy(ctx, wire.SupervisionPolicy{RequireApproval: true}); err != nil {
			t.Fatal(err)
		}
		if p, err := w.sec.SupervisionPolicy(ctx); err != nil || !p.RequireApproval {
			t.Fatalf("policy: %+v, %v", p, err)
		}
		if recs := supAuditRecords(ctx, t, w.audrey, "policy.supervision"); len(recs) != 1 || !strings.Contains(recs[0].Reason, `"require_approval":true`) {
			t.Errorf("policy.supervision records: %+v", recs)
		}
		_, err = w.dana.SetSupervisionPolicy(ctx, wire.SupervisionPolicy{})
		expectCode(t, err, "forbidden")

		const reason = "Compliance review CR-9 of the sales desk"
		w.stepUp(ctx, t, w.dana, w.danaSecret)
		req, err := w.dana.OpenSupervision(ctx, w.depA, reason, "CR-9", 30)
		if err != nil {
			t.Fatal(err)
		}
		if req.Status != "pending_approval" {
			t.Fatalf("request: %+v", req)
		}
		_, err = w.dana.SupervisedHistory(ctx, req.SupervisionID, conv, 0, 0)
		expectCode(t, err, "forbidden")
		_, err = w.dana.ApproveSupervision(ctx, req.SupervisionID) // no approval permission at all
		expectCode(t, err, "forbidden")

		// ulla may both request and approve, but not her own request.
		w.stepUp(ctx, t, w.ulla, w.ullaSecret)
		own, err := w.ulla.OpenSupervision(ctx, w.depA, "Second opinion on compliance review CR-9", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		w.stepUp(ctx, t, w.ulla, w.ullaSecret)
		_, err = w.ulla.ApproveSupervision(ctx, own.SupervisionID)
		expectCode(t, err, "forbidden")
		_, err = w.ulla.DenySupervision(ctx, own.SupervisionID, "")
		expectCode(t, err, "forbidden")
		queue, err := w.ulla.PendingSupervisions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(queue) != 1 || queue[0].SupervisionID != req.SupervisionID {
			t.Errorf("ulla's queue: %+v", queue)
		}

		w.stepUp(ctx, t, w.audrey, w.audreySecret)
		queue, err = w.audrey.PendingSupervisions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(queue) != 2 || queue[0].SupervisionID != req.SupervisionID || queue[0].Reason != reason ||
			queue[0].SupervisorID == "" || queue[0].Status != "pending_approval" {
			t.Fatalf("auditor's queue: %+v", queue)
		}
		s.Clock.Advance(5 * time.Minute)
		w.stepUp(ctx, t, w.audrey, w.audreySecret) // approving is sensitive (A6)
		approved, err := w.audrey.ApproveSupervision(ctx, req.SupervisionID)
		if err != nil {
			t.Fatal(err)
		}
		now := s.Clock.Now()
		if approved.Status != "active" || approved.ApprovedAt == nil || !approved.ApprovedAt.Equal(now) ||
			!approved.ExpiresAt.Equal(now.Add(30*time.Minute)) || approved.ApprovedBy == "" {
			t.Errorf("approved: %+v", approved)
		}
		_, err = w.audrey.ApproveSupervision(ctx, req.SupervisionID)
		expectCode(t, err, "conflict")
		_, err = w.audrey.ApproveSupervision(ctx, "sv_doesnotexist")
		expectCode(t, err, "not_found")
		w.stepUp(ctx, t, w.dana, w.danaSecret)
		hist, err := w.dana.SupervisedHistory(ctx, req.SupervisionID, conv, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist.Messages) != 1 || hist.Messages[0].Body != "hello from sales" {
			t.Errorf("history after approval: %+v", hist)
		}

		denied, err := w.audrey.DenySupervision(ctx, own.SupervisionID, "CR-9 is already covered")
		if err != nil {
			t.Fatal(err)
		}
		if denied.Status != "denied" || denied.EndedAt == nil {
			t.Errorf("denied: %+v", denied)
		}
		w.stepUp(ctx, t, w.ulla, w.ullaSecret)
		_, err = w.ulla.SupervisedHistory(ctx, own.SupervisionID, conv, 0, 0)
		expectCode(t, err, "forbidden")
		for _, action := range []string{"supervision.approve", "supervision.deny"} {
			var success int
			for _, r := range supAuditRecords(ctx, t, w.audrey, action) {
				if r.Result == "success" {
					success++
				}
			}
			if success != 1 {
				t.Errorf("%s: %d successful records", action, success)
			}
		}

		// A request nobody decides lapses after a day.
		w.stepUp(ctx, t, w.dana, w.danaSecret)
		late, err := w.dana.OpenSupervision(ctx, w.depA, reason, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		s.Clock.Advance(25 * time.Hour) // every session has ended too: log in afresh
		auditor := s.Client()
		res, err := auditor.Login(ctx, "audrey", parleytest.Password)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := auditor.CompleteMFA(ctx, res.MFAToken, "totp", s.TOTPCode(w.audreySecret)); err != nil {
			t.Fatal(err)
		}
		if queue, err := auditor.PendingSupervisions(ctx); err != nil || len(queue) != 0 {
			t.Errorf("queue after a day: %+v, %v", queue, err)
		}
		_, err = auditor.ApproveSupervision(ctx, late.SupervisionID)
		expectCode(t, err, "conflict")
	})
}

// TestSupervisionRefusedToOthers: the system admin runs the system but
// reads nobody's conversations (Z4): every supervision route refuses it,
// step-up or not; so does an ordinary user's.
func TestSupervisionRefusedToOthers(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		admin := s.SetupAdmin(ctx)
		dep, err := admin.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Sales"})
		if err != nil {
			t.Fatal(err)
		}
		user := s.NewUser(ctx, admin, "alice")
		if _, err := admin.StepUp(ctx, "totp", s.TOTPCode(admin.TOTPSecret), ""); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*client.Client{admin.Client, user.Client} {
			calls := map[string]error{}
			_, calls["open"] = c.OpenSupervision(ctx, dep.DepartmentID, "Looking at the sales desk", "", 0)
			_, calls["list"] = c.Supervisions(ctx)
			_, calls["pending"] = c.PendingSupervisions(ctx)
			_, calls["approve"] = c.ApproveSupervision(ctx, "sv_x")
			_, calls["deny"] = c.DenySupervision(ctx, "sv_x", "")
			calls["end"] = c.EndSupervision(ctx, "sv_x")
			_, calls["conversations"] = c.SupervisedConversations(ctx, "sv_x", "", 0)
			_, calls["history"] = c.SupervisedHistory(ctx, "sv_x", "c_x", 0, 0)
			calls["recall"] = c.RecallMessage(ctx, "sv_x", "c_x", 1)
			_, calls["mute"] = c.MuteMember(ctx, "sv_x", "c_x", user.UserID, 5)
			_, calls["policy"] = c.SupervisionPolicy(ctx)
			_, calls["set policy"] = c.SetSupervisionPolicy(ctx, wire.SupervisionPolicy{})
			for name, err := range calls {
				if !client.IsCode(err, "forbidden") {
					t.Errorf("%s: got %v, want forbidden", name, err)
				}
			}
		}
	})
}
