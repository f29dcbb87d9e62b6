package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

// TestRoleGrantsStore: grants carry scope and history; the same grant twice
// is a conflict; revoking all keeps "user"; a merged department's scoped
// grants move to the department it merged into; a custom role still held
// cannot be deleted; a two-person request is decided once.
func TestRoleGrantsStore(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		a := &parley.Department{ID: parley.NewDepartmentID(), Name: "A", CreatedAt: t0}
		b := &parley.Department{ID: parley.NewDepartmentID(), Name: "B", CreatedAt: t0}
		must(t, db.CreateDepartment(ctx, a))
		must(t, db.CreateDepartment(ctx, b))
		u := newUser("grace", parley.RoleUser)
		must(t, db.CreateUser(ctx, u))
		// Every grant goes through the checked path; these checks allow all.
		grant := func(g *parley.RoleGrant) error {
			return db.GrantRoleChecked(ctx, g, func(map[parley.UserID][]parley.RoleGrant, []*parley.CustomRole) error { return nil }, nil)
		}

		g := &parley.RoleGrant{UserID: u.ID, Role: parley.RoleDepartmentAdmin, Scope: a.ID, GrantedBy: "u_sec", GrantedAt: t0}
		must(t, grant(g))
		if err := grant(g); parley.ErrorCode(err) != parley.CodeConflict {
			t.Fatalf("second grant: %v", err)
		}
		must(t, grant(&parley.RoleGrant{UserID: u.ID, Role: parley.RoleDepartmentAdmin, Scope: b.ID, GrantedAt: t0}))
		if err := grant(&parley.RoleGrant{UserID: "u_nobody", Role: parley.RoleAuditor, GrantedAt: t0}); parley.ErrorCode(err) != parley.CodeNotFound {
			t.Fatalf("grant to nobody: %v", err)
		}

		// Merging A into B leaves one department_admin grant, scoped to B.
		must(t, db.MergeDepartment(ctx, a.ID, b.ID))
		got, err := db.UserByID(ctx, u.ID)
		must(t, err)
		var scopes []parley.DepartmentID
		for _, gr := range got.Grants {
			if gr.Role == parley.RoleDepartmentAdmin {
				scopes = append(scopes, gr.Scope)
			}
		}
		if len(scopes) != 1 || scopes[0] != b.ID {
			t.Fatalf("scopes after merge = %v, want [%s]", scopes, b.ID)
		}

		used := t0.Add(time.Hour)
		must(t, db.TouchGrants(ctx, u.ID, parley.RoleDepartmentAdmin, used))
		must(t, db.TouchGrants(ctx, u.ID, parley.RoleDepartmentAdmin, t0)) // never moves back
		got, _ = db.UserByID(ctx, u.ID)
		for _, gr := range got.Grants {
			if gr.Role == parley.RoleDepartmentAdmin && !gr.LastUsedAt.Equal(used) {
				t.Fatalf("last used = %v, want %v", gr.LastUsedAt, used)
			}
		}

		cr := &parley.CustomRole{ID: "custom:r1", Name: "Readers", Permissions: []string{"audit.read"}, CreatedAt: t0, UpdatedAt: t0}
		must(t, db.CreateCustomRole(ctx, cr))
		if err := db.CreateCustomRole(ctx, &parley.CustomRole{ID: "custom:r2", Name: "READERS", Permissions: []string{"audit.read"}}); parley.ErrorCode(err) != parley.CodeConflict {
			t.Fatalf("name clash: %v", err)
		}
		must(t, grant(&parley.RoleGrant{UserID: u.ID, Role: cr.ID, GrantedAt: t0}))
		if err := db.DeleteCustomRole(ctx, cr.ID); parley.ErrorCode(err) != parley.CodeConflict {
			t.Fatalf("delete held role: %v", err)
		}

		removed, err := db.RevokeAllRoles(ctx, u.ID)
		must(t, err)
		if len(removed) != 2 {
			t.Fatalf("removed %d grants, want 2", len(removed))
		}
		got, _ = db.UserByID(ctx, u.ID)
		if len(got.Roles) != 1 || got.Roles[0] != parley.RoleUser {
			t.Fatalf("roles after revoke all = %v", got.Roles)
		}
		must(t, db.DeleteCustomRole(ctx, cr.ID))
		if err := db.RevokeRole(ctx, u.ID, cr.ID, ""); parley.ErrorCode(err) != parley.CodeNotFound {
			t.Fatalf("revoke missing: %v", err)
		}

		req := &parley.GrantRequest{ID: "gr_1", UserID: u.ID, Role: parley.RoleAuditor, RequestedBy: u.ID,
			RequestedAt: t0, ExpiresAt: t0.Add(time.Hour), Status: parley.GrantRequestPending}
		must(t, db.CreateGrantRequest(ctx, req))
		must(t, db.DecideGrantRequest(ctx, "gr_1", parley.GrantRequestApproved, u.ID, t0))
		if err := db.DecideGrantRequest(ctx, "gr_1", parley.GrantRequestDenied, u.ID, t0); parley.ErrorCode(err) != parley.CodeConflict {
			t.Fatalf("decided twice: %v", err)
		}
		list, err := db.ListGrantRequests(ctx, parley.GrantRequestApproved)
		must(t, err)
		if len(list) != 1 || list[0].DecidedBy != u.ID {
			t.Fatalf("requests = %+v", list)
		}

		// An approval carried out with its grant: a failing check leaves
		// the request pending; a second approval finds it decided.
		req2 := &parley.GrantRequest{ID: "gr_2", UserID: u.ID, Role: parley.RoleAuditor, RequestedBy: u.ID,
			RequestedAt: t0, ExpiresAt: t0.Add(time.Hour), Status: parley.GrantRequestPending}
		must(t, db.CreateGrantRequest(ctx, req2))
		g2 := &parley.RoleGrant{UserID: u.ID, Role: parley.RoleAuditor, GrantedAt: t0}
		approve := &parley.GrantApproval{RequestID: "gr_2", By: "u_sec2", At: t0}
		refuse := func(map[parley.UserID][]parley.RoleGrant, []*parley.CustomRole) error {
			return parley.Errorf(parley.CodeInvalid, "no")
		}
		allow := func(map[parley.UserID][]parley.RoleGrant, []*parley.CustomRole) error { return nil }
		if err := db.GrantRoleChecked(ctx, g2, refuse, approve); parley.ErrorCode(err) != parley.CodeInvalid {
			t.Fatalf("refused approval: %v", err)
		}
		if r, _ := db.GrantRequestByID(ctx, "gr_2"); r.Status != parley.GrantRequestPending {
			t.Fatalf("after a refused approval: %s", r.Status)
		}
		must(t, db.GrantRoleChecked(ctx, g2, allow, approve))
		if err := db.GrantRoleChecked(ctx, &parley.RoleGrant{UserID: u.ID, Role: parley.RoleAuditor, Scope: "x", GrantedAt: t0}, allow, approve); parley.ErrorCode(err) != parley.CodeConflict {
			t.Fatalf("second approval: %v", err)
		}
		if r, _ := db.GrantRequestByID(ctx, "gr_2"); r.Status != parley.GrantRequestApproved || r.DecidedBy != "u_sec2" {
			t.Fatalf("after approval: %+v", r)
		}
	})
}

// TestGrantRoleCheckedSerialises: two grants racing for one user each see
// the other's result, because the check runs inside the write transaction
// under the roles lock (Z10). Exactly one of two mutually exclusive grants
// may win, every round, on both databases.
func TestGrantRoleCheckedSerialises(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		exclusive := func(grants map[parley.UserID][]parley.RoleGrant, _ []*parley.CustomRole) error {
			for _, gs := range grants {
				for _, g := range gs {
					if g.Role != parley.RoleUser {
						return parley.Errorf(parley.CodeInvalid, "already an administrator")
					}
				}
			}
			return nil
		}
		for round := 0; round < 10; round++ {
			u := newUser("racer"+string(rune('a'+round)), parley.RoleUser)
			must(t, db.CreateUser(ctx, u))
			errs := make(chan error, 2)
			for _, r := range []parley.Role{parley.RoleAuditor, parley.RoleSystemAdmin} {
				go func() {
					errs <- db.GrantRoleChecked(ctx, &parley.RoleGrant{UserID: u.ID, Role: r, GrantedAt: time.Now()}, exclusive, nil)
				}()
			}
			var ok int
			for range 2 {
				err := <-errs
				switch {
				case err == nil:
					ok++
				case parley.ErrorCode(err) != parley.CodeInvalid:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			got, err := db.UserByID(ctx, u.ID)
			must(t, err)
			if ok != 1 || len(got.Roles) != 2 {
				t.Fatalf("round %d: %d grants won, roles %v", round, ok, got.Roles)
			}
		}
	})
}
