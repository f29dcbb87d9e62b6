package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// enrol logs name in and enrols TOTP (an administrator role needs MFA
// first, A2), returning the client.
func enrol(ctx context.Context, t *testing.T, s *parleytest.Server, name string) *client.Client {
	t.Helper()
	c := s.Login(ctx, name)
	enr, err := c.EnrollTOTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfirmTOTP(ctx, s.TOTPCode(enr.Secret)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRoleGrants: the setup administrator grants roles only until the
// first security_admin exists; from then on the security_admin does, never
// to themselves, never two administrator duties to one person; a grant
// ends the target's sessions at once (A5, Z9, Z10).
func TestRoleGrants(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		admin := s.SetupAdmin(ctx)
		sec := s.NewUser(ctx, admin, "sec")
		bob := s.NewUser(ctx, admin, "bob")
		carol := s.NewUser(ctx, admin, "carol")

		// Bootstrap: the setup administrator grants the first security_admin.
		res, err := admin.GrantRole(ctx, sec.UserID, wire.GrantRoleRequest{Role: "security_admin", Reason: "hand-over"})
		if err != nil || res.Status != "granted" {
			t.Fatalf("bootstrap grant: %+v %v", res, err)
		}
		// The grant ended sec's sessions: the old token is dead.
		_, err = sec.Me(ctx)
		expectCode(t, err, "unauthenticated")
		// Bootstrap is over: the system admin grants nothing any more (Z10).
		_, err = admin.GrantRole(ctx, bob.UserID, wire.GrantRoleRequest{Role: "auditor"})
		expectCode(t, err, "forbidden")

		secC := enrol(ctx, t, s, "sec")
		me, err := secC.Me(ctx)
		if err != nil || !contains(me.Roles, "security_admin") {
			t.Fatalf("sec roles after grant: %+v %v", me, err)
		}
		// Nobody grants to themselves (Z9).
		_, err = secC.GrantRole(ctx, sec.UserID, wire.GrantRoleRequest{Role: "department_admin"})
		expectCode(t, err, "forbidden")
		// Unknown user and unknown role.
		_, err = secC.GrantRole(ctx, "u_nobody", wire.GrantRoleRequest{Role: "auditor"})
		expectCode(t, err, "not_found")
		_, err = secC.GrantRole(ctx, bob.UserID, wire.GrantRoleRequest{Role: "root"})
		expectCode(t, err, "invalid")

		if _, err := secC.GrantRole(ctx, bob.UserID, wire.GrantRoleRequest{Role: "auditor", Reason: "quarterly audit"}); err != nil {
			t.Fatal(err)
		}
		// Three-way separation: an auditor cannot also be system_admin or
		// security_admin (Z10), and the refusal changes nothing.
		for _, r := range []string{"system_admin", "security_admin"} {
			_, err = secC.GrantRole(ctx, bob.UserID, wire.GrantRoleRequest{Role: r})
			expectCode(t, err, "invalid")
		}
		grants, err := secC.UserGrants(ctx, bob.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if roles := grantRoles(grants); len(roles) != 2 || !contains(roles, "auditor") || !contains(roles, "user") {
			t.Fatalf("bob's grants = %v", roles)
		}
		for _, g := range grants {
			if g.Role == "auditor" && g.GrantedBy != sec.UserID {
				t.Fatalf("granted_by = %q, want %q", g.GrantedBy, sec.UserID)
			}
		}

		// department_admin is scoped: to the user's department by default.
		if _, err := secC.GrantRole(ctx, carol.UserID, wire.GrantRoleRequest{Role: "department_admin"}); err != nil {
			t.Fatal(err)
		}
		grants, _ = secC.UserGrants(ctx, carol.UserID)
		var scoped bool
		for _, g := range grants {
			scoped = scoped || (g.Role == "department_admin" && g.DepartmentID != "")
		}
		if !scoped {
			t.Fatalf("department_admin without scope: %+v", grants)
		}
		// Revoke ends the sessions too; revoking what is not held is 404.
		carolC := enrol(ctx, t, s, "carol")
		ws := dial(ctx, t, carolC)
		if err := secC.RevokeRole(ctx, carol.UserID, wire.GrantRoleRequest{Role: "department_admin"}); err != nil {
			t.Fatal(err)
		}
		_, err = carolC.Me(ctx)
		expectCode(t, err, "unauthenticated")
		// The open WebSocket is closed at once (1008), not at the next
		// revalidation: the change takes effect everywhere (A5).
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		for {
			if _, err := ws.Next(wctx); err != nil {
				if client.CloseStatus(err) != 1008 {
					t.Fatalf("WebSocket after revoke: %v (status %d), want close 1008 within 1 s", err, client.CloseStatus(err))
				}
				break
			}
		}
		err = secC.RevokeRole(ctx, carol.UserID, wire.GrantRoleRequest{Role: "department_admin"})
		expectCode(t, err, "not_found")
		err = secC.RevokeRole(ctx, carol.UserID, wire.GrantRoleRequest{Role: "user"})
		expectCode(t, err, "invalid")

		// An auditor changes nothing (Z5).
		bobC := enrol(ctx, t, s, "bob")
		_, err = bobC.GrantRole(ctx, carol.UserID, wire.GrantRoleRequest{Role: "department_admin"})
		expectCode(t, err, "forbidden")
		_, err = bobC.CreateRole(ctx, wire.CreateRoleRequest{Name: "x", Permissions: []string{"audit.read"}})
		expectCode(t, err, "forbidden")
	})
}

// TestCustomRolesAndTwoPerson: a custom role carries a minimal permission
// set (Z6) and never the security admin's duty or two duties (Z10); with
// the two_person policy an administrator role waits for a second security
// admin who is neither requester nor target (Z9).
func TestCustomRolesAndTwoPerson(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	s.NewUser(ctx, admin, "sec")
	s.NewUser(ctx, admin, "sec2")
	dave := s.NewUser(ctx, admin, "dave")
	if _, err := admin.GrantRole(ctx, mustUserID(ctx, t, admin, "sec"), wire.GrantRoleRequest{Role: "security_admin"}); err != nil {
		t.Fatal(err)
	}
	secC := enrol(ctx, t, s, "sec")
	// The bootstrap ended with the first grant; sec grants the second.
	if _, err := secC.GrantRole(ctx, mustUserID(ctx, t, secC, "sec2"), wire.GrantRoleRequest{Role: "security_admin"}); err != nil {
		t.Fatal(err)
	}
	sec2C := enrol(ctx, t, s, "sec2")

	for _, bad := range [][]string{{"security.policy"}, {"roles.grant"}, {"users.create", "audit.read"}, {"made.up"}, {}} {
		_, err := secC.CreateRole(ctx, wire.CreateRoleRequest{Name: "bad", Permissions: bad})
		expectCode(t, err, "invalid")
	}
	reader, err := secC.CreateRole(ctx, wire.CreateRoleRequest{Name: "Log reader", Permissions: []string{"audit.read"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = secC.CreateRole(ctx, wire.CreateRoleRequest{Name: "log READER", Permissions: []string{"audit.read"}})
	expectCode(t, err, "conflict")
	// The system admin cannot take the auditor's duty through a custom role.
	_, err = secC.GrantRole(ctx, mustUserID(ctx, t, secC, "admin"), wire.GrantRoleRequest{Role: reader.RoleID})
	expectCode(t, err, "invalid")

	if err := secC.SetRolePolicy(ctx, wire.RolePolicy{TwoPerson: true}); err != nil {
		t.Fatal(err)
	}
	res, err := secC.GrantRole(ctx, dave.UserID, wire.GrantRoleRequest{Role: reader.RoleID, Reason: "incident 42"})
	if err != nil || res.Status != "pending_approval" || res.RequestID == "" {
		t.Fatalf("two-person grant: %+v %v", res, err)
	}
	if roles := mustGrants(ctx, t, secC, dave.UserID); contains(roles, reader.RoleID) {
		t.Fatal("granted before approval")
	}
	_, err = secC.DecideRoleRequest(ctx, res.RequestID, true)
	expectCode(t, err, "forbidden")
	if out, err := sec2C.DecideRoleRequest(ctx, res.RequestID, true); err != nil || out.Status != "granted" {
		t.Fatalf("approve: %+v %v", out, err)
	}
	_, err = sec2C.DecideRoleRequest(ctx, res.RequestID, true)
	expectCode(t, err, "conflict")
	if roles := mustGrants(ctx, t, secC, dave.UserID); !contains(roles, reader.RoleID) {
		t.Fatalf("after approval: %v", roles)
	}
	// dave now reads the audit trail with the custom role (after MFA, A2).
	daveC := enrol(ctx, t, s, "dave")
	if _, err := daveC.Audit(ctx, 0, 10); err != nil {
		t.Fatalf("custom role holder reads audit: %v", err)
	}
	_, err = daveC.Users(ctx, "")
	if err != nil {
		t.Fatalf("directory still readable: %v", err)
	}
	_, err = daveC.CreateUser(ctx, wire.CreateUserRequest{Username: "x1", DisplayName: "x", Password: parleytest.Password})
	expectCode(t, err, "forbidden")
	// A held role cannot be deleted.
	err = secC.DeleteRole(ctx, reader.RoleID)
	expectCode(t, err, "conflict")

	// The access review lists who holds what, as JSON and as CSV.
	rep, err := secC.AccessReview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, u := range rep.Users {
		if u.UserID == dave.UserID {
			found = contains(grantRoles(u.Grants), reader.RoleID)
		}
	}
	if !found {
		t.Fatal("access review does not show dave's custom role")
	}
	raw, err := secC.AccessReviewCSV(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "user_id" {
		t.Fatalf("csv: %v rows, err %v", len(rows), err)
	}
	if err := secC.ConfirmReview(ctx, wire.ConfirmReviewRequest{UserID: dave.UserID, Role: reader.RoleID, Note: "still needed"}); err != nil {
		t.Fatal(err)
	}
	err = secC.ConfirmReview(ctx, wire.ConfirmReviewRequest{UserID: dave.UserID, Role: "system_admin"})
	expectCode(t, err, "not_found")
}

func mustUserID(ctx context.Context, t *testing.T, c interface {
	Users(context.Context, string) ([]wire.UserSummary, error)
}, name string) string {
	t.Helper()
	us, err := c.Users(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Username == name {
			return u.UserID
		}
	}
	t.Fatalf("user %s not found", name)
	return ""
}

func mustGrants(ctx context.Context, t *testing.T, c *client.Client, id string) []string {
	t.Helper()
	gs, err := c.UserGrants(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return grantRoles(gs)
}

func grantRoles(gs []wire.Grant) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Role)
	}
	return out
}
