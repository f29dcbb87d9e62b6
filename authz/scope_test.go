package authz

import (
	"testing"

	"github.com/parleyhq/parley"
)

// TestHoldsInScope: department_admin's permissions reach its department
// and the sub-departments below it, nothing beside or above (Z3, Z6).
func TestHoldsInScope(t *testing.T) {
	tree := NewTree([]*parley.Department{
		{ID: "root"}, {ID: "sales", ParentID: "root"}, {ID: "emea", ParentID: "sales"},
		{ID: "hr", ParentID: "root"},
	})
	da := &parley.Actor{UserID: "u1", DepartmentID: "sales", Roles: []parley.Role{parley.RoleUser, parley.RoleDepartmentAdmin}}
	cases := []struct {
		dept parley.DepartmentID
		want bool
	}{
		{"sales", true}, {"emea", true}, {"hr", false}, {"root", false}, {"nowhere", false}, {"", false},
	}
	for _, c := range cases {
		if got := HoldsIn(da, PermSupervise, c.dept, tree); got != c.want {
			t.Errorf("HoldsIn(supervision, %q) = %v, want %v", c.dept, got, c.want)
		}
	}
	if !Holds(da, PermSupervise) || Holds(da, PermMessagesRead) == false {
		t.Error("gate: a department admin holds supervision somewhere and messages.read as a user")
	}
	if HoldsIn(da, PermUsersCreate, "sales", tree) {
		t.Error("department_admin creates no users")
	}
	scopes, all := Scopes(da, PermSupervise)
	if all || len(scopes) != 1 || scopes[0] != "sales" {
		t.Errorf("Scopes = %v %v", scopes, all)
	}
	// A cycle in a corrupted tree ends the walk.
	loop := NewTree([]*parley.Department{{ID: "a", ParentID: "b"}, {ID: "b", ParentID: "a"}})
	if loop.Within("a", "c") {
		t.Error("cycle: a within c")
	}
}

// TestCustomRoleRules: custom roles never carry the security admin's duty
// and never two duties; a set of roles reaching two duties is refused
// however it is assembled (Z10).
func TestCustomRoleRules(t *testing.T) {
	bad := [][]string{
		nil, {"security.policy"}, {"roles.grant"}, {"roles.manage"}, {"self"}, {"public"},
		{"users.create", "audit.read"}, {"nope"}, {"audit.read", "audit.read"},
	}
	for _, ps := range bad {
		if err := CheckCustomPermissions(ps); parley.ErrorCode(err) != parley.CodeInvalid {
			t.Errorf("CheckCustomPermissions(%v) = %v, want invalid", ps, err)
		}
	}
	for _, ps := range [][]string{{"audit.read"}, {"users.create", "users.manage"}, {"supervision", "directory.read"}} {
		if err := CheckCustomPermissions(ps); err != nil {
			t.Errorf("CheckCustomPermissions(%v) = %v", ps, err)
		}
	}
	cat := NewCatalog([]*parley.CustomRole{
		{ID: "custom:reader", Permissions: []string{"audit.read"}},
		// A row edited behind the server's back cannot smuggle in a
		// reserved permission: it is dropped.
		{ID: "custom:sneaky", Permissions: []string{"roles.grant", "directory.read"}},
	})
	if err := cat.CheckRoleSet([]parley.Role{parley.RoleSystemAdmin, "custom:reader"}); err == nil {
		t.Error("system_admin + audit custom role accepted")
	}
	if err := cat.CheckRoleSet([]parley.Role{parley.RoleUser, "custom:reader"}); err != nil {
		t.Error(err)
	}
	if cat.RoleBits("custom:sneaky")&Bits(PermRolesGrant) != 0 {
		t.Error("reserved permission kept in a custom role")
	}
	if !cat.IsAdmin("custom:reader") || cat.IsAdmin(parley.RoleUser) {
		t.Error("IsAdmin")
	}
	a := &parley.Actor{UserID: "u", Perms: cat.Resolve([]parley.RoleGrant{{Role: "custom:reader"}, {Role: parley.RoleUser}})}
	if !Holds(a, PermAuditRead) || Holds(a, PermUsersCreate) {
		t.Error("resolved custom role")
	}
	// An actor with resolved but empty permissions holds nothing.
	if Holds(&parley.Actor{Perms: []parley.ScopedPerms{}, Roles: []parley.Role{parley.RoleSystemAdmin}}, PermUsersCreate) {
		t.Error("empty resolved permissions fell back to roles")
	}
}

// TestScopedGrantConfersOnlyScopable: a department-scoped grant confers
// only permissions whose services check the object's department; anything
// else would act organisation-wide (Z6), so it is dropped.
func TestScopedGrantConfersOnlyScopable(t *testing.T) {
	cat := NewCatalog([]*parley.CustomRole{{ID: "custom:hd", Permissions: []string{"users.unlock", "users.create"}}})
	a := &parley.Actor{UserID: "u", Perms: cat.Resolve([]parley.RoleGrant{{Role: "custom:hd", Scope: "sales"}})}
	if Holds(a, PermUsersCreate) {
		t.Error("scoped grant conferred users.create")
	}
	if !HoldsIn(a, PermUsersUnlock, "sales", NewTree([]*parley.Department{{ID: "sales"}})) {
		t.Error("scoped grant lost users.unlock")
	}
	if un := cat.Unscopable("custom:hd"); len(un) != 1 || un[0] != PermUsersCreate {
		t.Errorf("Unscopable = %v", un)
	}
	if un := cat.Unscopable(parley.RoleDepartmentAdmin); len(un) != 0 {
		t.Errorf("department_admin unscopable = %v", un)
	}
}
