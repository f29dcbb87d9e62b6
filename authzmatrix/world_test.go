package authzmatrix

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// principal is one role's account in the matrix.
type principal struct {
	label    string // the role, or "custom" for the custom-role holder
	username string
	secret   string // TOTP
	userID   string
	deptID   string
	c        *client.Client
	// held is what the principal's roles allow, from the permission table
	// (authz.BuiltinPermissions, the custom role's definition). scoped
	// lists what it holds only over a department subtree.
	held   map[authz.Permission]bool
	scoped map[authz.Permission]string
}

// holdsOrgWide reports whether p holds perm everywhere.
func (p *principal) holdsOrgWide(perm authz.Permission) bool {
	_, s := p.scoped[perm]
	return p.held[perm] && !s
}

// subject is an account the principals act on; it never acts in the gate
// walk, so the walk cannot disturb it.
type subject struct {
	username, userID, deptID string
	c                        *client.Client
}

// world is the server and every account and object of the matrix.
type world struct {
	s     *parleytest.Server
	admin *parleytest.Admin
	// The department tree: A, its sub-department A1, and B beside A.
	deptA, deptA1, deptB string
	principals           []*principal
	// peer (in A) shares convMember with the user principal; sub (in A1)
	// and peer share convForeign, which no principal is in; convOther is
	// between two accounts of B.
	peer, sub                          *subject
	convMember, convForeign, convOther string
	customRole                         string
	customPerms                        []authz.Permission
	subjects                           int            // counter for fresh target accounts
	denied                             map[string]int // "actorID METHOD path" → expected api.denied records
	deniedTotal                        int
	msgs                               int // counter for client message IDs
}

func (w *world) principal(label string) *principal {
	for _, p := range w.principals {
		if p.label == label {
			return p
		}
	}
	return nil
}

// customLabel names the custom-role principal in subtest names.
const customLabel = "custom"

// newWorld bootstraps the server: the setup administrator creates the
// departments and one enrolled account per built-in role (the security
// admin last: until one exists the setup admin may grant any role), then
// the security admin defines a custom role and grants it over department
// A only.
func newWorld(ctx context.Context, t *testing.T, s *parleytest.Server) *world {
	t.Helper()
	w := &world{s: s, admin: s.SetupAdmin(ctx), denied: map[string]int{}}
	w.deptA = w.department(ctx, t, "Matrix A", "")
	w.deptA1 = w.department(ctx, t, "Matrix A1", w.deptA)
	w.deptB = w.department(ctx, t, "Matrix B", "")

	for _, role := range authz.Builtin() {
		if role == parley.RoleSecurityAdmin {
			continue
		}
		w.principals = append(w.principals, w.enrol(ctx, t, string(role), []string{string(role)}))
	}
	w.principals = append(w.principals, w.enrol(ctx, t, string(parley.RoleSecurityAdmin), []string{string(parley.RoleSecurityAdmin)}))

	w.peer = w.newSubject(ctx, t, w.deptA)
	w.sub = w.newSubject(ctx, t, w.deptA1)
	user := w.principal(string(parley.RoleUser))
	var err error
	if w.convMember, err = user.c.CreateConversation(ctx, "direct", []string{w.peer.userID}, ""); err != nil {
		t.Fatalf("member conversation: %v", err)
	}
	if w.convForeign, err = w.peer.c.CreateConversation(ctx, "direct", []string{w.sub.userID}, ""); err != nil {
		t.Fatalf("foreign conversation: %v", err)
	}
	b1, b2 := w.newSubject(ctx, t, w.deptB), w.newSubject(ctx, t, w.deptB)
	if w.convOther, err = b1.c.CreateConversation(ctx, "direct", []string{b2.userID}, ""); err != nil {
		t.Fatalf("conversation in B: %v", err)
	}
	if _, err := b1.c.Send(ctx, w.convOther, w.msgID(), "hello"); err != nil {
		t.Fatalf("send: %v", err)
	}
	for _, conv := range []string{w.convMember, w.convForeign} {
		if _, err := w.peer.c.Send(ctx, conv, w.msgID(), "hello"); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	w.addCustom(ctx, t)
	// Grants are read by the security admin: roles.read is administrative.
	sec := w.principal(string(parley.RoleSecurityAdmin))
	for _, p := range w.principals {
		w.resolve(ctx, t, p, sec)
	}
	return w
}

func (w *world) department(ctx context.Context, t *testing.T, name, parent string) string {
	t.Helper()
	d, err := w.admin.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: name, ParentID: parent})
	if err != nil {
		t.Fatalf("department %s: %v", name, err)
	}
	return d.DepartmentID
}

// stepUpAdmin gives the setup administrator a fresh second factor: a
// role grant is sensitive (Z9, A6).
func (w *world) stepUpAdmin(ctx context.Context, t *testing.T) {
	t.Helper()
	w.aliveAdmin(ctx, t)
	if _, err := w.admin.StepUp(ctx, "totp", w.s.TOTPCode(w.admin.TOTPSecret), ""); err != nil {
		t.Fatalf("admin step-up: %v", err)
	}
}

// enrol creates an account in department A with roles and enrols TOTP, so
// that no answer of the matrix is the MFA enrolment gate (A2).
func (w *world) enrol(ctx context.Context, t *testing.T, label string, roles []string) *principal {
	t.Helper()
	p := &principal{label: label, username: "mx_" + label, deptID: w.deptA}
	if len(roles) > 0 && roles[0] != string(parley.RoleUser) {
		w.stepUpAdmin(ctx, t)
	} else {
		roles = nil
	}
	id, err := w.admin.CreateUser(ctx, wire.CreateUserRequest{Username: p.username, DisplayName: "Matrix " + label,
		Password: parleytest.Password, DepartmentID: w.deptA, Roles: roles})
	if err != nil {
		t.Fatalf("create %s: %v", p.username, err)
	}
	p.userID = id
	w.enrolTOTP(ctx, t, p)
	return p
}

func (w *world) enrolTOTP(ctx context.Context, t *testing.T, p *principal) {
	t.Helper()
	p.c = w.s.Login(ctx, p.username)
	enr, err := p.c.EnrollTOTP(ctx)
	if err != nil {
		t.Fatalf("enrol %s: %v", p.username, err)
	}
	if _, err := p.c.ConfirmTOTP(ctx, w.s.TOTPCode(enr.Secret)); err != nil {
		t.Fatalf("confirm %s: %v", p.username, err)
	}
	p.secret = enr.Secret
}

// addCustom defines a custom role (Z6) with a user-targeted write and a
// read, and grants it to a new account over department A only: the
// account's scope relations then differ inside and outside A.
func (w *world) addCustom(ctx context.Context, t *testing.T) {
	t.Helper()
	sec := w.principal(string(parley.RoleSecurityAdmin))
	w.fresh(ctx, t, sec)
	w.customPerms = []authz.Permission{authz.PermUsersUnlock, authz.PermRolesRead}
	perms := make([]string, len(w.customPerms))
	for i, p := range w.customPerms {
		perms[i] = string(p)
	}
	role, err := sec.c.CreateRole(ctx, wire.CreateRoleRequest{Name: "Matrix helpdesk", Permissions: perms})
	if err != nil {
		t.Fatalf("create custom role: %v", err)
	}
	if !slices.Equal(role.Permissions, perms) {
		t.Fatalf("custom role holds %v, asked for %v", role.Permissions, perms)
	}
	w.customRole = role.RoleID
	p := w.enrol(ctx, t, customLabel, nil)
	res, err := sec.c.GrantRole(ctx, p.userID, wire.GrantRoleRequest{Role: role.RoleID, DepartmentID: w.deptA, Reason: "authorization matrix"})
	if err != nil || res.Status != "granted" {
		t.Fatalf("grant custom role: %+v %v", res, err)
	}
	w.principals = append(w.principals, p)
}

// resolve reads the principal's role grants back from the server and
// derives what they allow, and where, from the permission table (built-in
// roles) and the custom role's definition.
func (w *world) resolve(ctx context.Context, t *testing.T, p, reader *principal) {
	t.Helper()
	w.fresh(ctx, t, p)
	me, err := p.c.Me(ctx)
	if err != nil {
		t.Fatalf("me %s: %v", p.username, err)
	}
	if !me.MFAEnrolled {
		t.Fatalf("%s has no second factor", p.username)
	}
	want := []string{string(parley.RoleUser)}
	switch {
	case p.label == customLabel:
		want = append(want, w.customRole)
	case p.label != string(parley.RoleUser):
		want = append(want, p.label)
	}
	if !sameSet(me.Roles, want) {
		t.Fatalf("%s holds %v, want %v", p.username, me.Roles, want)
	}
	w.alive(ctx, t, reader)
	grants, err := reader.c.UserGrants(ctx, p.userID)
	if err != nil {
		t.Fatalf("grants of %s: %v", p.username, err)
	}
	orgWide := map[authz.Permission]bool{}
	p.held, p.scoped = map[authz.Permission]bool{}, map[authz.Permission]string{}
	for _, g := range grants {
		perms := authz.BuiltinPermissions(parley.Role(g.Role))
		if g.Role == w.customRole {
			perms = w.customPerms
		}
		if perms == nil {
			t.Fatalf("%s holds unknown role %q", p.username, g.Role)
		}
		for _, perm := range perms {
			p.held[perm] = true
			if g.DepartmentID == "" {
				orgWide[perm] = true
			} else {
				p.scoped[perm] = g.DepartmentID
			}
		}
	}
	for perm := range orgWide {
		delete(p.scoped, perm)
	}
	if p.label == customLabel || p.label == string(parley.RoleDepartmentAdmin) {
		if len(p.scoped) == 0 {
			t.Fatalf("%s holds nothing scoped: grants %+v", p.username, grants)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// fresh gives p a new session, logged in with password and TOTP just now,
// so that step-up (A6) is never what answers. The clock first moves a
// minute: the per-source login throttle (I1) refills, since the walk's
// minimal bodies count as failed attempts on some operations.
func (w *world) fresh(ctx context.Context, t *testing.T, p *principal) {
	t.Helper()
	w.s.Clock.Advance(time.Minute)
	c := w.s.Client()
	res, err := c.Login(ctx, p.username, parleytest.Password)
	if err != nil {
		t.Fatalf("login %s: %v", p.username, err)
	}
	if !res.MFARequired {
		t.Fatalf("login %s: no MFA challenge", p.username)
	}
	if _, err := c.CompleteMFA(ctx, res.MFAToken, "totp", w.s.TOTPCode(p.secret)); err != nil {
		t.Fatalf("MFA %s: %v", p.username, err)
	}
	p.c = c
}

// alive keeps p's session usable after an operation that may have ended
// it (logout, revoking sessions, a role change).
func (w *world) alive(ctx context.Context, t *testing.T, p *principal) {
	t.Helper()
	if _, err := p.c.Me(ctx); err != nil {
		if !client.IsCode(err, "unauthenticated") {
			t.Fatalf("me %s: %v", p.username, err)
		}
		w.fresh(ctx, t, p)
	}
}

// aliveAdmin logs the setup administrator in again once the walk's clock
// has let its session go idle (A5).
func (w *world) aliveAdmin(ctx context.Context, t *testing.T) {
	t.Helper()
	if _, err := w.admin.Me(ctx); err == nil {
		return
	} else if !client.IsCode(err, "unauthenticated") {
		t.Fatalf("me admin: %v", err)
	}
	c := w.s.Client()
	res, err := c.Login(ctx, "admin", parleytest.Password)
	if err != nil || !res.MFARequired {
		t.Fatalf("login admin: %+v %v", res, err)
	}
	if _, err := c.CompleteMFA(ctx, res.MFAToken, "totp", w.s.TOTPCode(w.admin.TOTPSecret)); err != nil {
		t.Fatalf("MFA admin: %v", err)
	}
	w.admin.Client = c
}

// newSubject creates a plain account in dept and logs it in.
func (w *world) newSubject(ctx context.Context, t *testing.T, dept string) *subject {
	t.Helper()
	s := &subject{deptID: dept}
	s.userID, s.username = w.newAccount(ctx, t, dept)
	s.c = w.s.Login(ctx, s.username)
	return s
}

// newAccount creates a plain account in dept; targets of the scope cases
// are fresh ones, so no case depends on what another did to its target.
func (w *world) newAccount(ctx context.Context, t *testing.T, dept string) (id, username string) {
	t.Helper()
	w.aliveAdmin(ctx, t)
	w.subjects++
	username = fmt.Sprintf("mx_subject%d", w.subjects)
	id, err := w.admin.CreateUser(ctx, wire.CreateUserRequest{Username: username, DisplayName: "Subject " + username,
		Password: parleytest.Password, DepartmentID: dept})
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return id, username
}

// msgID returns a fresh client message ID.
func (w *world) msgID() string {
	w.msgs++
	return fmt.Sprintf("mx-%d", w.msgs)
}
