package e2e

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// isoOrg is the organisation of the isolation tests:
//
//	root (admin, sec, aud, rita)
//	├── eng (erin)
//	│   ├── web (walt)
//	│   └── ops (otto)
//	└── sales (sam)
type isoOrg struct {
	admin                                 *parleytest.Admin
	sec, aud                              *client.Client
	secSecret                             string
	eng, web, ops, sales                  string
	erin, walt, otto, sam, rita           *client.Client
	erinID, waltID, ottoID, samID, ritaID string
}

func newIsoOrg(ctx context.Context, t *testing.T, s *parleytest.Server) *isoOrg {
	t.Helper()
	o := &isoOrg{admin: s.SetupAdmin(ctx)}
	// The auditor first: until a security admin exists the setup
	// administrator may grant every role (bootstrap).
	o.aud, _ = enrolledAdmin(ctx, t, s, o.admin, "aud", "auditor")
	o.sec, o.secSecret = enrolledAdmin(ctx, t, s, o.admin, "sec", "security_admin")
	dep := func(name, parent string) string {
		d, err := o.admin.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: name, ParentID: parent})
		if err != nil {
			t.Fatal(err)
		}
		return d.DepartmentID
	}
	o.eng = dep("Engineering", "")
	o.web, o.ops = dep("Web", o.eng), dep("Ops", o.eng)
	o.sales = dep("Sales", "")
	user := func(name, dept string) (*client.Client, string) {
		id, err := o.admin.CreateUser(ctx, wire.CreateUserRequest{Username: name, DisplayName: "User " + name,
			Password: parleytest.Password, DepartmentID: dept})
		if err != nil {
			t.Fatal(err)
		}
		return s.Login(ctx, name), id
	}
	o.erin, o.erinID = user("erin", o.eng)
	o.walt, o.waltID = user("walt", o.web)
	o.otto, o.ottoID = user("otto", o.ops)
	o.sam, o.samID = user("sam", o.sales)
	o.rita, o.ritaID = user("rita", "")
	return o
}

func (o *isoOrg) set(ctx context.Context, t *testing.T, p wire.IsolationPolicy) {
	t.Helper()
	got, err := o.sec.SetIsolationPolicy(ctx, p)
	if err != nil {
		t.Fatalf("set %+v: %v", p, err)
	}
	if got.Template != p.Template || len(got.Allow) != len(p.Allow) {
		t.Fatalf("set %+v: answered %+v", p, got)
	}
}

// visible returns the usernames c finds in the directory.
func visible(ctx context.Context, t *testing.T, c *client.Client) []string {
	t.Helper()
	users, err := c.Users(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	slices.Sort(names)
	return names
}

func expectVisible(ctx context.Context, t *testing.T, c *client.Client, who string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := visible(ctx, t, c); !slices.Equal(got, want) {
		t.Fatalf("%s sees %v, want %v", who, got, want)
	}
}

// readOnly reports the read_only flag of conv in c's conversation list.
func readOnly(ctx context.Context, t *testing.T, c *client.Client, conv string) bool {
	t.Helper()
	list, err := c.Conversations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, cv := range list {
		if cv.ConversationID == conv {
			return cv.ReadOnly
		}
	}
	t.Fatalf("conversation %s missing from the list", conv)
	return false
}

func apiError(t *testing.T, err error) *client.APIError {
	t.Helper()
	var e *client.APIError
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an API error", err)
	}
	return e
}

// TestIsolationPolicy: the strict template hides other departments in the
// directory and refuses new conversations with them as if they did not
// exist; an allow rule opens a pair; an existing conversation across the
// boundary turns read-only (REST and WebSocket) with its history intact,
// and writable again when the policy relaxes (Z7). Only a security admin
// with a fresh second factor changes the policy, bad input changes
// nothing, and every change is audited (Z10, A6, L1).
func TestIsolationPolicy(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		o := newIsoOrg(ctx, t, s)
		everyone := []string{"admin", "aud", "sec", "erin", "walt", "otto", "sam", "rita"}

		// Open by default: a conversation across what will be the boundary.
		p, err := o.sec.IsolationPolicy(ctx)
		if err != nil || p.Template != "open" || p.Allow == nil || len(p.Allow) != 0 {
			t.Fatalf("default policy %+v, %v", p, err)
		}
		expectVisible(ctx, t, o.walt, "walt", everyone...)
		cross, err := o.walt.CreateConversation(ctx, "direct", []string{o.samID}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.walt.Send(ctx, cross, newMsgID(), "before the wall"); err != nil {
			t.Fatal(err)
		}
		if readOnly(ctx, t, o.walt, cross) {
			t.Fatal("read-only under the open template")
		}

		o.set(ctx, t, wire.IsolationPolicy{Template: "strict"})

		// Directory: own department, ancestors and descendants, the root
		// excepted; administrators see everyone.
		expectVisible(ctx, t, o.walt, "walt", "walt", "erin")
		expectVisible(ctx, t, o.erin, "erin", "erin", "walt", "otto")
		expectVisible(ctx, t, o.sam, "sam", "sam")
		expectVisible(ctx, t, o.rita, "rita", "rita", "admin", "aud", "sec")
		expectVisible(ctx, t, o.admin.Client, "the system admin", everyone...)
		expectVisible(ctx, t, o.sec, "the security admin", everyone...)

		// A hidden user is "not found", exactly as one that does not exist.
		_, err = o.walt.CreateConversation(ctx, "direct", []string{o.samID}, "")
		if e := apiError(t, err); e.Status != 404 || e.Code != "not_found" || e.Message != "user "+o.samID+" not found" {
			t.Fatalf("hidden user: %+v", e)
		}
		_, err = o.walt.CreateConversation(ctx, "direct", []string{"u_nobody"}, "")
		if e := apiError(t, err); e.Status != 404 || e.Code != "not_found" || e.Message != "user u_nobody not found" {
			t.Fatalf("unknown user: %+v", e)
		}
		_, err = o.walt.CreateConversation(ctx, "group", []string{o.erinID, o.samID}, "mixed")
		expectCode(t, err, "not_found")
		_, err = o.rita.CreateConversation(ctx, "direct", []string{o.erinID}, "") // the root is no ancestor
		expectCode(t, err, "not_found")
		// Within the boundary all is well; a group needs every pair.
		if _, err := o.walt.CreateConversation(ctx, "direct", []string{o.erinID}, ""); err != nil {
			t.Fatalf("web to its parent: %v", err)
		}
		if _, err := o.erin.CreateConversation(ctx, "group", []string{o.waltID}, "eng"); err != nil {
			t.Fatal(err)
		}
		_, err = o.erin.CreateConversation(ctx, "group", []string{o.waltID, o.ottoID}, "web+ops") // siblings
		expectCode(t, err, "forbidden")
		// An administrator sees sam, so it is told the truth: forbidden.
		_, err = o.admin.CreateConversation(ctx, "direct", []string{o.samID}, "")
		expectCode(t, err, "forbidden")

		// The existing conversation is read-only, its history readable.
		if !readOnly(ctx, t, o.walt, cross) || !readOnly(ctx, t, o.sam, cross) {
			t.Fatal("cross-department conversation not marked read-only")
		}
		_, err = o.walt.Send(ctx, cross, newMsgID(), "over the wall")
		if e := apiError(t, err); e.Status != 403 || e.Code != "forbidden" || !strings.Contains(e.Message, "read-only") ||
			!strings.Contains(e.Message, "isolation") {
			t.Fatalf("REST send: %+v", e)
		}
		conn := dial(ctx, t, o.sam)
		if err := conn.Send(ctx, cross, "ws-1", "over the wall"); err != nil {
			t.Fatal(err)
		}
		f, _ := nextOfType(ctx, t, conn, wire.FrameError)
		if f.Code != "forbidden" || f.ClientMsgID != "ws-1" || !strings.Contains(f.Message, "read-only") {
			t.Fatalf("WebSocket send: %+v", f)
		}
		hist, err := o.sam.History(ctx, cross, 0, 50)
		if err != nil || len(hist) != 1 || hist[0].Body != "before the wall" {
			t.Fatalf("history: %+v, %v", hist, err)
		}

		// An allow rule opens the pair (and the subtrees: web is in eng).
		o.set(ctx, t, wire.IsolationPolicy{Template: "strict", Allow: []wire.IsolationRule{{A: o.sales, B: o.eng}}})
		expectVisible(ctx, t, o.walt, "walt with the rule", "walt", "erin", "sam")
		expectVisible(ctx, t, o.otto, "otto with the rule", "otto", "erin", "sam")
		if readOnly(ctx, t, o.walt, cross) {
			t.Fatal("still read-only under the allow rule")
		}
		if _, err := o.walt.Send(ctx, cross, newMsgID(), "through the door"); err != nil {
			t.Fatalf("send with the rule: %v", err)
		}
		if _, err := o.sam.CreateConversation(ctx, "group", []string{o.waltID, o.erinID}, "eng+sales"); err != nil {
			t.Fatalf("group with the rule: %v", err)
		}

		// Strict again, then open: read-only, then writable, nothing lost.
		o.set(ctx, t, wire.IsolationPolicy{Template: "strict"})
		if !readOnly(ctx, t, o.walt, cross) {
			t.Fatal("not read-only after the rule went")
		}
		o.set(ctx, t, wire.IsolationPolicy{Template: "open"})
		if readOnly(ctx, t, o.walt, cross) {
			t.Fatal("read-only under the open template")
		}
		if _, _, err := conn.SendAndWaitAck(ctx, cross, "ws-2", "open again"); err != nil {
			t.Fatalf("WebSocket send after relaxing: %v", err)
		}
		hist, err = o.walt.History(ctx, cross, 0, 50)
		if err != nil || len(hist) != 3 {
			t.Fatalf("history after relaxing: %d messages, %v", len(hist), err)
		}
		expectVisible(ctx, t, o.sam, "sam under open", everyone...)

		// Only the security admin sets the policy (Z10).
		_, err = o.admin.SetIsolationPolicy(ctx, wire.IsolationPolicy{Template: "strict"})
		expectCode(t, err, "forbidden")
		_, err = o.walt.IsolationPolicy(ctx)
		expectCode(t, err, "forbidden")

		// Bad input: 400, and the policy stays as it was.
		r := newRaw(t, s, o.sec.Token())
		for _, body := range []string{
			`{"template":"lax","allow":[]}`,
			`{"template":"","allow":[]}`,
			`{"allow":[]}`,
			`{"template":"strict","allow":[{"a":"d_nowhere","b":"` + o.eng + `"}]}`,
			`{"template":"strict","allow":[{"a":"` + o.eng + `","b":""}]}`,
			`{"template":"strict","allow":[{"a":"` + o.eng + `","b":"` + o.sales + `"},{"a":"` + o.eng + `","b":"` + o.sales + `"}]}`,
			`{"template":"strict","allow":[{"a":"` + o.eng + `","b":"` + o.sales + `"},{"a":"` + o.sales + `","b":"` + o.eng + `"}]}`,
			`{"template":"strict","allow":[],"extra":1}`,
			`{"template":"strict","allow":[{"a":"` + o.eng + `","b":"` + o.sales + `","c":"x"}]}`,
			`{"template":"strict","template":"open","allow":[]}`,
			`{"template":"strict","allow":{}}`,
			`[]`,
		} {
			status, eb, _ := r.do("PUT", "/api/v1/policy/isolation", []byte(body), nil)
			if status != 400 || eb.Error.Code != "invalid" {
				t.Errorf("%s: %d %+v", body, status, eb)
			}
		}
		if p, err := o.sec.IsolationPolicy(ctx); err != nil || p.Template != "open" || len(p.Allow) != 0 {
			t.Fatalf("policy after bad input: %+v, %v", p, err)
		}
		expectVisible(ctx, t, o.sam, "sam after bad input", everyone...)

		// A sensitive operation: a second factor used within five minutes (A6).
		s.Clock.Advance(6 * time.Minute)
		if _, err := o.sec.Me(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = o.sec.SetIsolationPolicy(ctx, wire.IsolationPolicy{Template: "strict"})
		expectCode(t, err, "step_up_required")
		_, err = o.sec.IsolationPolicy(ctx)
		expectCode(t, err, "step_up_required")
		if _, err := o.sec.StepUp(ctx, "totp", s.TOTPCode(o.secSecret), ""); err != nil {
			t.Fatal(err)
		}
		if p, err := o.sec.IsolationPolicy(ctx); err != nil || p.Template != "open" {
			t.Fatalf("after step-up: %+v, %v", p, err)
		}

		// The trail: each change with old and new template, the refusals.
		recs, err := o.aud.Audit(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var changes []string
		var failures, denied int
		for _, rec := range recs {
			switch {
			case rec.Action == "policy.isolation" && rec.Result == "success":
				changes = append(changes, rec.Reason[:strings.IndexByte(rec.Reason, ',')])
				if rec.ActorName != "sec" {
					t.Errorf("change by %q", rec.ActorName)
				}
			case rec.Action == "policy.isolation" && rec.Result == "failure":
				failures++
			case rec.Action == "api.denied" && strings.HasSuffix(rec.Target, "/policy/isolation"):
				denied++
			}
		}
		want := []string{"template open→strict", "template strict→strict", "template strict→strict", "template strict→open"}
		if !slices.Equal(changes, want) {
			t.Errorf("audited changes %q, want %q", changes, want)
		}
		if failures < 5 || denied < 2 {
			t.Errorf("audited %d refused inputs and %d denials", failures, denied)
		}
	})
}

// TestIsolationFollowsTheTree: moving and merging departments changes who
// may talk at once on this node, and a rule whose department was merged
// away stops matching (Z7, M5).
func TestIsolationFollowsTheTree(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		o := newIsoOrg(ctx, t, s)
		o.set(ctx, t, wire.IsolationPolicy{Template: "strict", Allow: []wire.IsolationRule{{A: o.ops, B: o.sales}}})
		expectVisible(ctx, t, o.sam, "sam", "sam", "otto")
		// Web moves under Sales: walt and sam are now in one subtree.
		if _, err := o.admin.UpdateDepartment(ctx, o.web, wire.UpdateDepartmentRequest{ParentID: &o.sales}); err != nil {
			t.Fatal(err)
		}
		expectVisible(ctx, t, o.sam, "sam after the move", "sam", "otto", "walt")
		expectVisible(ctx, t, o.walt, "walt after the move", "walt", "sam", "otto") // the ops–sales rule now covers web
		// Ops merges into Engineering: the ops–sales rule names a department
		// that is gone and opens nothing any more.
		if err := o.admin.MergeDepartment(ctx, o.ops, o.eng); err != nil {
			t.Fatal(err)
		}
		expectVisible(ctx, t, o.sam, "sam after the merge", "sam", "walt")
		expectVisible(ctx, t, o.otto, "otto after the merge", "otto", "erin")
		p, err := o.sec.IsolationPolicy(ctx)
		if err != nil || len(p.Allow) != 1 || p.Allow[0].A != o.ops {
			t.Fatalf("the rule is kept as written: %+v, %v", p, err)
		}
	})
}
