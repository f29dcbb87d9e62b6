package authzmatrix

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/client"
)

// The scope-relation axis (Z6: no horizontal access). The gate lets a
// request through on the permission; the service then decides on the
// object. For each object type the cases below are derived from the
// published operations, and each names the relation between principal and
// object. Another user's or department's object answers not_found, never
// forbidden, so that its existence is not revealed.

// outcome is what a scope case expects.
type outcome int

const (
	// wantOK: the operation is carried out (2xx).
	wantOK outcome = iota
	// wantReached: the object was found and the actor allowed: neither
	// forbidden nor not_found (validation of a minimal body may refuse).
	wantReached
	// wantHidden: 404 not_found.
	wantHidden
	// wantNotForbidden: past every permission check; used where another
	// path parameter can only be made up, so not_found says nothing.
	wantNotForbidden
)

func (o outcome) String() string {
	return [...]string{"2xx", "neither forbidden nor not_found", "404 not_found", "not forbidden"}[o]
}

type scopeCase struct {
	p        *principal
	relation string
	op       operation
	vals     map[string]string // path parameters; the rest are made up
	body     any
	// guessed is true when no valid body was known and the minimal one
	// was sent: a 400 then says nothing about the object.
	guessed bool
	want    outcome
	after   func(t *testing.T) // checks that the case changed nothing it should not have
}

// validBodies are request bodies that a holder of the permission may send
// about an object it can reach, keyed by operation. An operation missing
// here gets its minimal body; where that leaves a case undecided the
// failure says so.
var validBodies = map[string]func(w *world) any{
	"POST /api/v1/conversations/{id}/messages": func(w *world) any {
		return map[string]any{"client_msg_id": w.msgID(), "body": "matrix"}
	},
	"POST /api/v1/conversations/{id}/read":      func(*world) any { return map[string]any{"seq": 0} },
	"PUT /api/v1/users/{id}/contacts/{channel}": func(*world) any { return map[string]any{"address": "matrix@example.com"} },
	// The target holds department_admin afterwards: a target is never
	// reused.
	"POST /api/v1/users/{id}/roles": func(*world) any {
		return map[string]any{"role": "department_admin", "reason": "authorization matrix"}
	},
	// Revoking "user" is refused as invalid, after the target is found.
	"POST /api/v1/users/{id}/roles/revoke": func(*world) any { return map[string]any{"role": "user", "reason": "authorization matrix"} },
}

// pathValues are path parameters other than the object's ID.
var pathValues = map[string]string{"channel": "email", "seq": "1"}

// madeUpParams reports whether op has a path parameter that neither vals
// nor pathValues fills.
func madeUpParams(op operation, vals map[string]string) bool {
	for _, seg := range strings.Split(op.Path, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			name = strings.TrimSuffix(name, "}")
			if _, ok := vals[name]; !ok {
				if _, ok := pathValues[name]; !ok {
					return true
				}
			}
		}
	}
	return false
}

// withPathValues adds pathValues to vals.
func withPathValues(vals map[string]string) map[string]string {
	for k, v := range pathValues {
		if _, ok := vals[k]; !ok {
			vals[k] = v
		}
	}
	return vals
}

func (w *world) body(op operation) (any, bool) {
	if f, ok := validBodies[op.String()]; ok {
		return f(w), false
	}
	return op.minimalBody(), op.Body
}

func (w *world) scopeRelations(ctx context.Context, t *testing.T, ops []operation) {
	for _, p := range w.principals {
		w.fresh(ctx, t, p)
		var cases []scopeCase
		cases = append(cases, w.conversationCases(p, ops)...)
		cases = append(cases, w.sessionCases(ctx, t, p, ops)...)
		cases = append(cases, w.userCases(ctx, t, p, ops)...)
		cases = append(cases, w.departmentCases(p, ops)...)
		cases = append(cases, w.supervisionCases(ctx, t, p, ops)...)
		for _, c := range cases {
			w.runScope(ctx, t, c)
		}
		w.conversationFrames(ctx, t, p)
	}
}

func (w *world) runScope(ctx context.Context, t *testing.T, c scopeCase) {
	t.Helper()
	t.Run(c.p.label+"/"+c.relation+"/"+c.op.String(), func(t *testing.T) {
		status, code, err := c.p.c.Raw(ctx, c.op.Method, c.op.path(c.vals), c.body, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok := false
		switch c.want {
		case wantOK:
			ok = status >= 200 && status < 300
		case wantReached:
			ok = code != "forbidden" && code != "not_found" && !gateRefusals[code]
		case wantHidden:
			ok = status == 404 && code == "not_found"
		case wantNotForbidden:
			ok = code != "forbidden" && !gateRefusals[code]
		}
		if !ok {
			hint := ""
			if c.guessed && status == 400 {
				hint = " (minimal body refused before the object was looked at: add a valid body to validBodies)"
			}
			t.Errorf("got %d %s, want %s%s", status, code, c.want, hint)
		}
		if status >= 500 {
			t.Errorf("got %d %s", status, code)
		}
		if c.after != nil {
			c.after(t)
		}
	})
	if c.op.Method != "GET" {
		w.alive(ctx, t, c.p)
	}
}

// conversationCases: messages and read markers of a conversation as a
// member (the user principal) and as a non-member (everyone).
func (w *world) conversationCases(p *principal, ops []operation) []scopeCase {
	var out []scopeCase
	for _, op := range ops {
		if !strings.HasPrefix(op.Path, "/api/v1/conversations/{id}") || !p.held[op.Perm] {
			continue
		}
		body, guessed := w.body(op)
		out = append(out, scopeCase{p: p, relation: "non-member", op: op,
			vals: map[string]string{"id": w.convForeign}, body: body, guessed: guessed, want: wantHidden})
		if p.label == string(parley.RoleUser) {
			body, guessed := w.body(op)
			want := wantOK
			if guessed {
				want = wantReached
			}
			out = append(out, scopeCase{p: p, relation: "member", op: op,
				vals: map[string]string{"id": w.convMember}, body: body, guessed: guessed, want: want})
		}
	}
	return out
}

// conversationFrames: the same for WebSocket frames.
func (w *world) conversationFrames(ctx context.Context, t *testing.T, p *principal) {
	conn := w.dial(ctx, t, p, "conversation")
	if conn == nil {
		return
	}
	defer conn.Close()
	type relation struct {
		name, conv string
		want       outcome
	}
	rel := []relation{{"non-member", w.convForeign, wantHidden}}
	if p.label == string(parley.RoleUser) {
		rel = append(rel, relation{"member", w.convMember, wantOK})
	}
	for _, r := range rel {
		for _, typ := range clientFrameTypes(t) {
			w.frame(ctx, t, p, conn, r.name, typ, r.conv, func(t *testing.T, held bool, codes []string) {
				switch {
				case !held:
					// the gate axis covers it
				case r.want == wantOK && len(codes) > 0:
					t.Errorf("member answered %v, want no error", codes)
				case r.want == wantHidden && !slices.Equal(codes, []string{"not_found"}):
					t.Errorf("non-member answered %v, want [not_found]", codes)
				}
			})
		}
	}
}

// sessionCases: revoking one's own other session, and another user's.
// The other user logs in just now, so that the check that its session
// survived is not answered by the idle timeout.
func (w *world) sessionCases(ctx context.Context, t *testing.T, p *principal, ops []operation) []scopeCase {
	t.Helper()
	var out []scopeCase
	for _, op := range ops {
		if !strings.HasPrefix(op.Path, "/api/v1/sessions/{id}") || !p.held[op.Perm] {
			continue
		}
		body, guessed := w.body(op)
		want := wantOK
		if guessed {
			want = wantReached
		}
		other := w.s.Login(ctx, w.peer.username)
		out = append(out,
			scopeCase{p: p, relation: "own-session", op: op, vals: map[string]string{"id": w.secondSession(ctx, t, p)},
				body: body, guessed: guessed, want: want},
			scopeCase{p: p, relation: "other-user-session", op: op, vals: map[string]string{"id": sessionOf(ctx, t, other)},
				body: body, guessed: guessed, want: wantHidden, after: func(t *testing.T) {
					if _, err := other.Me(ctx); err != nil {
						t.Errorf("the other user's session did not survive: %v", err)
					}
				}})
	}
	return out
}

// secondSession logs p in on another device and returns that session's
// ID; p keeps its own.
func (w *world) secondSession(ctx context.Context, t *testing.T, p *principal) string {
	t.Helper()
	keep := p.c
	w.fresh(ctx, t, p)
	id := sessionOf(ctx, t, p.c)
	p.c = keep
	return id
}

// userCases: operations on another account (/users/{id}/...) by a
// holder of their permission, on fresh accounts in the holder's
// department, a sub-department and another department. An organisation-
// wide holder reaches all three; one whose grant covers department A only
// reaches A and A1 and must not see into B.
func (w *world) userCases(ctx context.Context, t *testing.T, p *principal, ops []operation) []scopeCase {
	t.Helper()
	var out []scopeCase
	user := authz.BuiltinPermissions(parley.RoleUser)
	for _, op := range ops {
		if !strings.HasPrefix(op.Path, "/api/v1/users/{id}") || slices.Contains(user, op.Perm) || !p.held[op.Perm] {
			continue
		}
		for _, rel := range w.departmentRelations() {
			target, _ := w.newAccount(ctx, t, rel.dept)
			vals := map[string]string{"id": target}
			body, guessed := w.body(op)
			want := wantReached
			switch {
			case !p.holdsOrgWide(op.Perm) && !w.within(rel.dept, p.scoped[op.Perm]):
				want = wantHidden
			case madeUpParams(op, vals):
				want = wantNotForbidden
			}
			vals = withPathValues(vals)
			out = append(out, scopeCase{p: p, relation: "user-in-" + rel.name, op: op, vals: vals,
				body: body, guessed: guessed, want: want})
		}
	}
	return out
}

// departmentCases: operations whose body names a department (supervision,
// Z3), by a holder of their permission over a department subtree, about
// its own department, a sub-department and another one. Organisation-wide
// holders reach every department; creating and moving departments is not
// a scope case.
func (w *world) departmentCases(p *principal, ops []operation) []scopeCase {
	var out []scopeCase
	for _, op := range ops {
		if _, scoped := p.scoped[op.Perm]; !scoped || !slices.Contains(op.Fields, "department_id") {
			continue
		}
		for _, rel := range w.departmentRelations() {
			body := map[string]any{}
			for _, f := range op.Fields {
				switch f {
				case "department_id":
					body[f] = rel.dept
				case "reason":
					body[f] = "authorization matrix scope relation"
				}
			}
			want := wantOK
			if !w.within(rel.dept, p.scoped[op.Perm]) {
				want = wantHidden
			}
			out = append(out, scopeCase{p: p, relation: rel.name, op: op, body: body, guessed: true, want: want})
		}
	}
	return out
}

// supervisionCases: under a supervision grant over department A (Z3), the
// operations on a supervised conversation reach one with a member in A's
// subtree (convForeign: A and A1) and not one wholly in B.
func (w *world) supervisionCases(ctx context.Context, t *testing.T, p *principal, ops []operation) []scopeCase {
	t.Helper()
	const prefix = "/api/v1/supervision/{id}/conversations/{cid}"
	var out []scopeCase
	grant := ""
	for _, op := range ops {
		if !strings.HasPrefix(op.Path, prefix) || !p.held[op.Perm] {
			continue
		}
		if grant == "" {
			grant = w.openSupervision(ctx, t, p)
		}
		for _, rel := range []struct {
			name, conv, member string
			want               outcome
		}{
			{"supervised-in-scope", w.convForeign, w.sub.userID, wantOK},
			{"supervised-out-of-scope", w.convOther, w.sub.userID, wantHidden},
		} {
			var body any
			switch {
			case strings.HasSuffix(op.Path, "/mute"):
				body = map[string]any{"user_id": rel.member, "minutes": 1}
			default:
				body, _ = w.body(op)
			}
			out = append(out, scopeCase{p: p, relation: rel.name, op: op,
				vals: withPathValues(map[string]string{"id": grant, "cid": rel.conv}), body: body, guessed: true, want: rel.want})
		}
	}
	return out
}

// openSupervision opens p's supervision over its department.
func (w *world) openSupervision(ctx context.Context, t *testing.T, p *principal) string {
	t.Helper()
	var opened struct {
		SupervisionID string `json:"supervision_id"`
		Status        string `json:"status"`
	}
	status, code, err := p.c.Raw(ctx, "POST", "/api/v1/supervision",
		map[string]any{"department_id": p.deptID, "reason": "authorization matrix scope relation"}, &opened)
	if err != nil || status != 201 || opened.Status != "active" {
		t.Fatalf("open supervision: %d %s %v %+v", status, code, err, opened)
	}
	return opened.SupervisionID
}

type deptRelation struct{ name, dept string }

// departmentRelations are relative to department A, where every
// principal sits and over which the scoped grants are given.
func (w *world) departmentRelations() []deptRelation {
	return []deptRelation{{"own-department", w.deptA}, {"sub-department", w.deptA1}, {"other-department", w.deptB}}
}

// within reports whether dept lies in the subtree of root; the matrix's
// tree is A ⊃ A1 and B.
func (w *world) within(dept, root string) bool {
	return dept == root || (root == w.deptA && dept == w.deptA1)
}

// sessionOf returns the ID of the session c holds.
func sessionOf(ctx context.Context, t *testing.T, c *client.Client) string {
	t.Helper()
	list, err := c.Sessions(ctx)
	if err != nil {
		t.Fatalf("sessions: %v", err)
	}
	for _, s := range list {
		if s.Current {
			return s.SessionID
		}
	}
	t.Fatal("no current session in the list")
	return ""
}
