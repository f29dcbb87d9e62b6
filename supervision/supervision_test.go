package supervision_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
	"github.com/parleyhq/parley/supervision"
)

// fakeChat records what supervision asked of the chat service.
type fakeChat struct {
	mu       sync.Mutex
	reads    []parley.ConversationID
	recalls  []int64
	mutes    []*parley.ConversationMute
	messages []*parley.Message
}

func (f *fakeChat) SupervisedHistory(_ context.Context, id parley.ConversationID, _ int64, _ int) ([]*parley.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, id)
	return f.messages, nil
}

func (f *fakeChat) Recall(_ context.Context, _ parley.ConversationID, seq int64, _ parley.UserID) (*parley.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recalls = append(f.recalls, seq)
	return &parley.Message{Seq: seq}, nil
}

func (f *fakeChat) Mute(_ context.Context, m *parley.ConversationMute) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mutes = append(f.mutes, m)
	return nil
}

// fakeAuditor keeps records, or fails every write when broken.
type fakeAuditor struct {
	mu     sync.Mutex
	recs   []parley.AuditRecord
	broken bool
}

func (f *fakeAuditor) Record(_ context.Context, r parley.AuditRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken {
		return errors.New("disk full")
	}
	f.recs = append(f.recs, r)
	return nil
}

func (f *fakeAuditor) last() parley.AuditRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recs[len(f.recs)-1]
}

// fixture is a store with departments root → A → A1 and root → B, users in
// them and a conversation between A1 and B and one inside B.
type fixture struct {
	svc                *supervision.Service
	db                 *sqldb.DB
	chat               *fakeChat
	audit              *fakeAuditor
	clock              *parleytest.Clock
	root, a, a1, b     parley.DepartmentID
	inA1, inB, inB2    *parley.User
	supA, supA2, aud   *parley.Actor
	convA1B, convBOnly parley.ConversationID
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: parleytest.NewSQLite(t), chat: &fakeChat{}, audit: &fakeAuditor{},
		clock: parleytest.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))}
	f.svc = supervision.New(f.db, f.chat, f.audit, f.clock.Now, nil)
	dep := func(name string, parent parley.DepartmentID) parley.DepartmentID {
		d := &parley.Department{ID: parley.NewDepartmentID(), ParentID: parent, Name: name, CreatedAt: f.clock.Now()}
		if err := f.db.CreateDepartment(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	f.root = dep("Root", "")
	f.a, f.b = dep("A", f.root), dep("B", f.root)
	f.a1 = dep("A1", f.a)
	user := func(name string, dept parley.DepartmentID, roles ...parley.Role) *parley.User {
		u := &parley.User{ID: parley.NewUserID(), Username: name, DisplayName: name, DepartmentID: dept,
			Roles: append([]parley.Role{parley.RoleUser}, roles...), Status: parley.UserActive, PasswordHash: "x",
			CreatedAt: f.clock.Now()}
		if err := f.db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	actor := func(u *parley.User) *parley.Actor {
		// No Perms: authz resolves the built-in roles, department_admin
		// scoped to the actor's department.
		return &parley.Actor{UserID: u.ID, Username: u.Username, DepartmentID: u.DepartmentID, Roles: u.Roles}
	}
	f.inA1, f.inB, f.inB2 = user("ina1", f.a1), user("inb", f.b), user("inb2", f.b)
	f.supA = actor(user("supa", f.a, parley.RoleDepartmentAdmin))
	f.supA2 = actor(user("supa2", f.a, parley.RoleDepartmentAdmin))
	f.aud = actor(user("aud", f.root, parley.RoleAuditor))
	conv := func(members ...parley.UserID) parley.ConversationID {
		c := &parley.Conversation{ID: parley.NewConversationID(), Type: parley.ConversationGroup, MemberIDs: members,
			CreatedBy: members[0], CreatedAt: f.clock.Now(), KeyEpoch: 1}
		if err := f.db.CreateConversation(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	f.convA1B = conv(f.inA1.ID, f.inB.ID)
	f.convBOnly = conv(f.inB.ID, f.inB2.ID)
	return f
}

const reason = "Case 4711: complaint about conduct in sales chat"

func (f *fixture) open(t *testing.T, a *parley.Actor, dept parley.DepartmentID) *parley.SupervisionGrant {
	t.Helper()
	g, err := f.svc.Open(context.Background(), a, parley.SupervisionRequest{DepartmentID: dept, Reason: reason, TicketID: "C-4711"})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// appendMessage stores a message from sender (sealed by copying: this
// package never opens bodies itself).
func (f *fixture) appendMessage(t *testing.T, conv parley.ConversationID, sender parley.UserID) {
	t.Helper()
	seal := func(m *parley.Message, body []byte) error { m.Sealed, m.KeyEpoch = body, 1; return nil }
	if err := f.db.AppendMessages(context.Background(), []*parley.PendingMessage{{Msg: parley.Message{ID: parley.NewMessageID(),
		ConversationID: conv, SenderID: sender, SentAt: f.clock.Now()}, Body: []byte("x")}}, seal); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code parley.Code) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("error %v, want code %q", err, code)
	}
}

// TestOpenScope: a department admin opens supervision over their own
// subtree only; everything else, real or not, is not_found and audited as
// a denial (Z3, Z6).
func TestOpenScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, dept := range []parley.DepartmentID{f.b, f.root, parley.NewDepartmentID(), ""} {
		_, err := f.svc.Open(ctx, f.supA, parley.SupervisionRequest{DepartmentID: dept, Reason: reason})
		wantCode(t, err, parley.CodeNotFound)
		if r := f.audit.last(); r.Action != "supervision.open" || r.Result != parley.ResultDenied || r.Target != string(dept) {
			t.Errorf("denial of %q audited as %+v", dept, r)
		}
	}
	for _, d := range []time.Duration{-time.Minute, 30 * time.Second, 481 * time.Minute, 90 * time.Second} {
		_, err := f.svc.Open(ctx, f.supA, parley.SupervisionRequest{DepartmentID: f.a, Reason: reason, Duration: d})
		wantCode(t, err, parley.CodeInvalid)
	}
	_, err := f.svc.Open(ctx, f.aud, parley.SupervisionRequest{DepartmentID: f.a, Reason: reason})
	wantCode(t, err, parley.CodeForbidden)

	g := f.open(t, f.supA, f.a1) // a sub-department is within the scope
	if g.Status != parley.SupervisionActive || !g.ExpiresAt.Equal(f.clock.Now().Add(supervision.DefaultDuration)) || g.TicketID != "C-4711" {
		t.Errorf("grant: %+v", g)
	}
	if r := f.audit.last(); r.Result != parley.ResultSuccess || r.Target != string(g.ID) || !strings.Contains(r.Reason, reason) ||
		!strings.Contains(r.Reason, "ticket=C-4711") || !strings.Contains(r.Reason, "minutes=60") {
		t.Errorf("open audited as %+v", r)
	}
	stored, err := f.db.SupervisionByID(ctx, g.ID)
	if err != nil || stored.Reason != reason || stored.SupervisorID != f.supA.UserID {
		t.Errorf("stored: %+v, %v", stored, err)
	}
}

// TestFailClosed: without an audit trail nothing is opened and nothing is
// read (D3, L5).
func TestFailClosed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g := f.open(t, f.supA, f.a)
	f.appendMessage(t, f.convA1B, f.inA1.ID)
	f.audit.broken = true
	_, err := f.svc.Open(ctx, f.supA, parley.SupervisionRequest{DepartmentID: f.a, Reason: reason})
	wantCode(t, err, parley.CodeUnavailable)
	if list, _ := f.db.SupervisionsBySupervisor(ctx, f.supA.UserID); len(list) != 1 {
		t.Errorf("%d grants stored, want the first only", len(list))
	}
	_, err = f.svc.History(ctx, f.supA, g.ID, f.convA1B, 0, 0)
	wantCode(t, err, parley.CodeUnavailable)
	err = f.svc.Recall(ctx, f.supA, g.ID, f.convA1B, 1)
	wantCode(t, err, parley.CodeUnavailable)
	_, err = f.svc.Mute(ctx, f.supA, g.ID, f.convA1B, f.inA1.ID, time.Minute)
	wantCode(t, err, parley.CodeUnavailable)
	if len(f.chat.reads) != 0 || len(f.chat.mutes) != 0 || len(f.chat.recalls) != 0 {
		t.Errorf("chat was used without an audit record: %+v", f.chat)
	}
}

// TestUseOfGrant: every use re-checks the grant; a read names the
// conversation, grant and reason in the trail before chat is asked.
func TestUseOfGrant(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g := f.open(t, f.supA, f.a)
	f.chat.messages = []*parley.Message{{Seq: 1, Body: []byte("hi")}}
	h, err := f.svc.History(ctx, f.supA, g.ID, f.convA1B, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.Grant.ID != g.ID || h.ConversationID != f.convA1B || len(h.Messages) != 1 {
		t.Errorf("history: %+v", h)
	}
	if r := f.audit.last(); r.Action != "supervision.read" || r.Target != string(f.convA1B) || r.Result != parley.ResultSuccess ||
		!strings.Contains(r.Reason, string(g.ID)) || !strings.Contains(r.Reason, reason) {
		t.Errorf("read audited as %+v", r)
	}
	// Outside the subtree, made up, or too long: not found, audited.
	for _, c := range []parley.ConversationID{f.convBOnly, parley.NewConversationID(), "", parley.ConversationID(strings.Repeat("c", 65))} {
		_, err := f.svc.History(ctx, f.supA, g.ID, c, 0, 0)
		wantCode(t, err, parley.CodeNotFound)
		if r := f.audit.last(); r.Result != parley.ResultDenied {
			t.Errorf("refusal audited as %+v", r)
		}
	}
	_, err = f.svc.History(ctx, f.supA, g.ID, f.convA1B, -1, 0)
	wantCode(t, err, parley.CodeInvalid)
	_, err = f.svc.History(ctx, f.supA, g.ID, f.convA1B, 0, 201)
	wantCode(t, err, parley.CodeInvalid)
	// Someone else's grant does not exist for them.
	_, err = f.svc.History(ctx, f.supA2, g.ID, f.convA1B, 0, 0)
	wantCode(t, err, parley.CodeNotFound)
	_, err = f.svc.History(ctx, f.supA, "sv_nope", f.convA1B, 0, 0)
	wantCode(t, err, parley.CodeNotFound)
	if len(f.chat.reads) != 1 {
		t.Errorf("chat read %d times, want once", len(f.chat.reads))
	}

	_, convs, err := f.svc.Conversations(ctx, f.supA, g.ID, "", 0)
	if err != nil || len(convs) != 1 || convs[0].ID != f.convA1B {
		t.Errorf("conversations: %+v, %v", convs, err)
	}

	// Losing the scope ends the access at once: the supervisor moves to
	// B, and department_admin follows the holder's department here.
	moved := *f.supA
	moved.DepartmentID = f.b
	_, err = f.svc.History(ctx, &moved, g.ID, f.convA1B, 0, 0)
	wantCode(t, err, parley.CodeForbidden)

	// Expiry.
	f.clock.Advance(supervision.DefaultDuration)
	_, err = f.svc.History(ctx, f.supA, g.ID, f.convA1B, 0, 0)
	wantCode(t, err, parley.CodeForbidden)
	if !strings.Contains(parley.ErrorMessage(err), "expired") {
		t.Errorf("expiry refusal: %v", err)
	}
	list, err := f.svc.Grants(ctx, f.supA)
	if err != nil || len(list) != 1 || list[0].Status != parley.SupervisionExpired {
		t.Errorf("grants after expiry: %+v, %v", list, err)
	}
	wantCode(t, f.svc.End(ctx, f.supA, g.ID), parley.CodeConflict)
}

func TestRecallAndMute(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g := f.open(t, f.supA, f.a)
	f.appendMessage(t, f.convA1B, f.inB.ID)
	wantCode(t, f.svc.Recall(ctx, f.supA, g.ID, f.convA1B, 2), parley.CodeNotFound)
	wantCode(t, f.svc.Recall(ctx, f.supA, g.ID, f.convA1B, 0), parley.CodeNotFound)
	wantCode(t, f.svc.Recall(ctx, f.supA, g.ID, f.convBOnly, 1), parley.CodeNotFound)
	if err := f.svc.Recall(ctx, f.supA, g.ID, f.convA1B, 1); err != nil { // an outsider's message: the conversation is covered
		t.Fatal(err)
	}
	if len(f.chat.recalls) != 1 || f.chat.recalls[0] != 1 {
		t.Errorf("recalls: %v", f.chat.recalls)
	}
	if r := f.audit.last(); r.Action != "supervision.recall" || r.Target != string(f.convA1B)+"#1" || !strings.Contains(r.Reason, "sender="+string(f.inB.ID)) {
		t.Errorf("recall audited as %+v", r)
	}

	m, err := f.svc.Mute(ctx, f.supA, g.ID, f.convA1B, f.inA1.ID, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Until.Equal(f.clock.Now().Add(15*time.Minute)) || m.GrantID != g.ID || m.MutedBy != f.supA.UserID || len(f.chat.mutes) != 1 {
		t.Errorf("mute: %+v", m)
	}
	_, err = f.svc.Mute(ctx, f.supA, g.ID, f.convA1B, f.inB.ID, time.Minute) // an outsider
	wantCode(t, err, parley.CodeForbidden)
	_, err = f.svc.Mute(ctx, f.supA, g.ID, f.convA1B, f.inB2.ID, time.Minute) // not a member
	wantCode(t, err, parley.CodeNotFound)
	for _, d := range []time.Duration{0, 30 * time.Second, supervision.MaxMute + time.Minute} {
		_, err = f.svc.Mute(ctx, f.supA, g.ID, f.convA1B, f.inA1.ID, d)
		wantCode(t, err, parley.CodeInvalid)
	}
}

// TestApproval: with the policy on, a grant waits; an approver outside the
// request decides it once; the duration starts at approval; nobody decides
// their own request.
func TestApproval(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sec := &parley.Actor{UserID: parley.NewUserID(), Username: "sec", Roles: []parley.Role{parley.RoleSecurityAdmin}}
	if err := f.svc.SetSupervisionPolicy(ctx, f.supA, &parley.SupervisionPolicy{RequireApproval: true}); parley.ErrorCode(err) != parley.CodeForbidden {
		t.Fatalf("department admin set the policy: %v", err)
	}
	if err := f.svc.SetSupervisionPolicy(ctx, sec, &parley.SupervisionPolicy{RequireApproval: true}); err != nil {
		t.Fatal(err)
	}
	g := f.open(t, f.supA, f.a)
	if g.Status != parley.SupervisionPending {
		t.Fatalf("status %s", g.Status)
	}
	_, err := f.svc.History(ctx, f.supA, g.ID, f.convA1B, 0, 0)
	wantCode(t, err, parley.CodeForbidden)

	// Someone holding both permissions cannot approve their own request.
	both := *f.supA
	both.Roles = append(both.Roles, parley.RoleAuditor)
	_, err = f.svc.Approve(ctx, &both, g.ID)
	wantCode(t, err, parley.CodeForbidden)
	_, err = f.svc.Approve(ctx, f.supA2, g.ID)
	wantCode(t, err, parley.CodeForbidden)
	pending, err := f.svc.Pending(ctx, f.aud)
	if err != nil || len(pending) != 1 || pending[0].ID != g.ID {
		t.Fatalf("pending: %+v, %v", pending, err)
	}
	if own, err := f.svc.Pending(ctx, &both); err != nil || len(own) != 0 {
		t.Errorf("own request in the approver's queue: %+v, %v", own, err)
	}

	f.clock.Advance(20 * time.Minute)
	ok, err := f.svc.Approve(ctx, f.aud, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok.Status != parley.SupervisionActive || !ok.ApprovedAt.Equal(f.clock.Now()) || !ok.ExpiresAt.Equal(f.clock.Now().Add(supervision.DefaultDuration)) {
		t.Errorf("approved: %+v", ok)
	}
	_, err = f.svc.Approve(ctx, f.aud, g.ID)
	wantCode(t, err, parley.CodeConflict)
	_, err = f.svc.Deny(ctx, f.aud, g.ID, "")
	wantCode(t, err, parley.CodeConflict)
	if _, err := f.svc.History(ctx, f.supA, g.ID, f.convA1B, 0, 0); err != nil {
		t.Errorf("after approval: %v", err)
	}

	other := f.open(t, f.supA2, f.a1)
	_, err = f.svc.Deny(ctx, f.aud, other.ID, "bad\nreason")
	wantCode(t, err, parley.CodeInvalid)
	denied, err := f.svc.Deny(ctx, f.aud, other.ID, "not justified")
	if err != nil || denied.Status != parley.SupervisionDenied || denied.EndedAt.IsZero() {
		t.Fatalf("deny: %+v, %v", denied, err)
	}
	if r := f.audit.last(); r.Action != "supervision.deny" || !strings.Contains(r.Reason, `denial="not justified"`) {
		t.Errorf("deny audited as %+v", r)
	}
	_, err = f.svc.History(ctx, f.supA2, other.ID, f.convA1B, 0, 0)
	wantCode(t, err, parley.CodeForbidden)

	// A request left undecided lapses.
	late := f.open(t, f.supA2, f.a)
	f.clock.Advance(parley.SupervisionPendingTTL)
	_, err = f.svc.Approve(ctx, f.aud, late.ID)
	wantCode(t, err, parley.CodeConflict)
	if p, err := f.svc.Pending(ctx, f.aud); err != nil || len(p) != 0 {
		t.Errorf("lapsed request still pending: %+v, %v", p, err)
	}
}

func TestEnd(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g := f.open(t, f.supA, f.a)
	wantCode(t, f.svc.End(ctx, f.supA2, g.ID), parley.CodeNotFound)
	if err := f.svc.End(ctx, f.supA, g.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.End(ctx, f.supA, g.ID), parley.CodeConflict)
	_, err := f.svc.History(ctx, f.supA, g.ID, f.convA1B, 0, 0)
	wantCode(t, err, parley.CodeForbidden)
	if !strings.Contains(parley.ErrorMessage(err), "ended") {
		t.Errorf("refusal: %v", err)
	}
}
