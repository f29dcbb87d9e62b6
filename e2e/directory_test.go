package e2e

import (
	"testing"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// TestDepartmentTree: create, rename, move and merge departments (M5); the
// tree stays a tree, and only the system admin edits it.
func TestDepartmentTree(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		u := newCohort(ctx, t, s)
		a := u.admin
		eng, err := a.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Engineering"})
		if err != nil {
			t.Fatal(err)
		}
		web, _ := a.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Web", ParentID: eng.DepartmentID})
		ops, _ := a.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Ops"})
		if _, err := a.CreateUser(ctx, wire.CreateUserRequest{Username: "wendy", DisplayName: "Wendy", Password: parleytest.Password,
			DepartmentID: ops.DepartmentID}); err != nil {
			t.Fatal(err)
		}
		name := "Platform Engineering"
		d, err := a.UpdateDepartment(ctx, eng.DepartmentID, wire.UpdateDepartmentRequest{Name: &name})
		if err != nil || d.Name != name {
			t.Fatalf("rename: %+v, %v", d, err)
		}
		// Moving Engineering under its own child would cut it off the tree.
		_, err = a.UpdateDepartment(ctx, eng.DepartmentID, wire.UpdateDepartmentRequest{ParentID: &web.DepartmentID})
		expectCode(t, err, "invalid")
		root := eng.ParentID
		_, err = a.UpdateDepartment(ctx, root, wire.UpdateDepartmentRequest{ParentID: &ops.DepartmentID})
		expectCode(t, err, "invalid")
		if _, err := a.UpdateDepartment(ctx, ops.DepartmentID, wire.UpdateDepartmentRequest{ParentID: &eng.DepartmentID}); err != nil {
			t.Fatal(err)
		}
		expectCode(t, a.MergeDepartment(ctx, eng.DepartmentID, ops.DepartmentID), "invalid") // into its own subtree
		expectCode(t, a.MergeDepartment(ctx, "d_nope", web.DepartmentID), "not_found")
		if err := a.MergeDepartment(ctx, ops.DepartmentID, web.DepartmentID); err != nil {
			t.Fatal(err)
		}
		users, _ := a.Users(ctx, "wendy")
		if len(users) != 1 || users[0].DepartmentID != web.DepartmentID {
			t.Fatalf("wendy after the merge: %+v", users)
		}
		deps, _ := a.Departments(ctx)
		for _, d := range deps {
			if d.DepartmentID == ops.DepartmentID {
				t.Fatal("merged department still listed")
			}
		}
		// Ordinary users cannot edit the tree.
		_, err = u.alice.UpdateDepartment(ctx, web.DepartmentID, wire.UpdateDepartmentRequest{Name: &name})
		expectCode(t, err, "forbidden")
	})
}
