package authz

import (
	"slices"

	"github.com/parleyhq/parley"
)

// GrantContext is what CheckGrant needs to know about the deployment.
type GrantContext struct {
	// SecurityAdminExists ends the bootstrap period (API-CORE.md, Z10).
	SecurityAdminExists bool
	// SetupAdminID is the administrator created by setup, who may grant
	// any role until the first security_admin exists.
	SetupAdminID parley.UserID
	// Catalog knows the custom roles; nil means built-in roles only.
	Catalog *Catalog
}

func (gc GrantContext) catalog() *Catalog {
	if gc.Catalog == nil {
		return builtinCatalog
	}
	return gc.Catalog
}

// CheckGrant decides whether grantor may leave target holding roles (the
// target's whole role set after the change, "user" included). Nobody
// grants roles to themselves (Z9); only a holder of roles.grant — the
// security_admin — grants roles (Z10), except the setup administrator
// during bootstrap; no set reaches into two administrator duties.
func CheckGrant(grantor *parley.Actor, target parley.UserID, roles []parley.Role, gc GrantContext) error {
	if err := gc.catalog().CheckRoleSet(roles); err != nil {
		return err
	}
	extra := slices.ContainsFunc(roles, func(r parley.Role) bool { return r != parley.RoleUser })
	if !extra {
		return nil
	}
	return CheckGrantor(grantor, target, gc)
}

// CheckGrantor decides whether grantor may change target's roles at all.
func CheckGrantor(grantor *parley.Actor, target parley.UserID, gc GrantContext) error {
	if grantor.UserID == target {
		return parley.Errorf(parley.CodeForbidden, "nobody grants or changes their own roles")
	}
	if Holds(grantor, PermRolesGrant) {
		return nil
	}
	if !gc.SecurityAdminExists && gc.SetupAdminID != "" && grantor.UserID == gc.SetupAdminID {
		return nil
	}
	return parley.Errorf(parley.CodeForbidden, "only a security_admin grants roles")
}
