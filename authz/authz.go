// Package authz holds the permission table of Parley: every API and
// WebSocket operation names one Permission, and roles are sets of them (Z1).
// Anything not granted is denied. The rules for who may grant which role —
// separation of duties and the three-way split of administrators (Z9, Z10) —
// live here too, so that every caller enforces the same ones.
//
// This is the minimum the messaging core needs; custom roles, department
// scopes and supervision come with the authorization issue.
package authz

import (
	"slices"

	"github.com/parleyhq/parley"
)

// Permission names one kind of operation.
type Permission string

const (
	// PermPublic marks operations that need no session (login, setup,
	// health). It is never granted: the router treats it specially.
	PermPublic Permission = "public"
	// PermSelf covers the caller's own account: me, logout, MFA
	// enrolment, own sessions. Every authenticated user has it.
	PermSelf Permission = "self"

	PermConversationsCreate Permission = "conversations.create"
	PermConversationsRead   Permission = "conversations.read" // own conversations only
	PermMessagesSend        Permission = "messages.send"      // as a member only
	PermMessagesRead        Permission = "messages.read"      // as a member only
	PermDirectoryRead       Permission = "directory.read"
	PermUsersCreate         Permission = "users.create"
	PermDepartmentsManage   Permission = "departments.manage"
	PermAuditRead           Permission = "audit.read"
	// PermCredentials covers changes to the caller's own credentials:
	// password, second factors. Every user has it; it needs step-up.
	PermCredentials Permission = "self.credentials"
	// PermSecurityPolicy reads and changes security policy (password,
	// session, MFA): the security admin's (Z10).
	PermSecurityPolicy Permission = "security.policy"
	// PermUsersUnlock lifts a lockout (A9).
	PermUsersUnlock Permission = "users.unlock"
	// PermSystemInfo reads the server's build information and SBOM (V1):
	// the system admin's. It reveals versions, not data.
	PermSystemInfo Permission = "system.info"
)

// All lists every permission the router may name; a test checks that each
// route names one of these.
var All = []Permission{
	PermPublic, PermSelf,
	PermConversationsCreate, PermConversationsRead, PermMessagesSend, PermMessagesRead,
	PermDirectoryRead, PermUsersCreate, PermDepartmentsManage, PermAuditRead,
	PermCredentials, PermSecurityPolicy, PermUsersUnlock, PermSystemInfo,
}

// sensitive is the one table of operations that need a second factor used
// within the step-up window (A6); TestSensitiveOperations pins it.
var sensitive = map[Permission]bool{
	PermCredentials:    true,
	PermSecurityPolicy: true,
	PermUsersUnlock:    true,
}

// NeedsStepUp reports whether operations under p are sensitive (A6).
func NeedsStepUp(p Permission) bool { return sensitive[p] }

// builtin maps each built-in role to its minimal permission set (Z2–Z5).
// system_admin has no permission that reads message content (Z4): it reads
// its own conversations only through the "user" role every account holds.
// auditor reads the audit trail and changes nothing (Z5).
var builtin = map[parley.Role][]Permission{
	parley.RoleUser: {
		PermSelf, PermCredentials, PermConversationsCreate, PermConversationsRead,
		PermMessagesSend, PermMessagesRead, PermDirectoryRead,
	},
	parley.RoleDepartmentAdmin: {PermSelf, PermCredentials, PermDirectoryRead},
	parley.RoleSystemAdmin:     {PermSelf, PermCredentials, PermDirectoryRead, PermUsersCreate, PermDepartmentsManage, PermUsersUnlock, PermSystemInfo},
	parley.RoleSecurityAdmin:   {PermSelf, PermCredentials, PermDirectoryRead, PermSecurityPolicy, PermUsersUnlock},
	parley.RoleAuditor:         {PermSelf, PermCredentials, PermAuditRead},
}

// Known reports whether r is a built-in role.
func Known(r parley.Role) bool {
	_, ok := builtin[r]
	return ok
}

// Allowed reports whether a holder of roles may perform an operation that
// needs p. Deny by default: an unknown role grants nothing.
func Allowed(roles []parley.Role, p Permission) bool {
	for _, r := range roles {
		if slices.Contains(builtin[r], p) {
			return true
		}
	}
	return false
}

// Check returns nil if the actor holds p, and a forbidden error otherwise.
func Check(a *parley.Actor, p Permission) error {
	if Allowed(a.Roles, p) {
		return nil
	}
	return parley.Errorf(parley.CodeForbidden, "permission %s required", p)
}

// RequiresMFA reports whether a holder of roles must enrol MFA before doing
// anything else (A2: every administrative role).
func RequiresMFA(roles []parley.Role) bool {
	for _, r := range roles {
		if r != parley.RoleUser {
			return true
		}
	}
	return false
}

// exclusive are the three administrator roles of MLPS 2.0 8.1.5 (Z10): no
// person holds two of them.
var exclusive = []parley.Role{parley.RoleSystemAdmin, parley.RoleSecurityAdmin, parley.RoleAuditor}

// CheckRoleSet refuses a set of roles that breaks the three-way separation
// (Z10) or names an unknown role.
func CheckRoleSet(roles []parley.Role) error {
	n := 0
	for _, r := range roles {
		if !Known(r) {
			return parley.Errorf(parley.CodeInvalid, "unknown role %q", r)
		}
		if slices.Contains(exclusive, r) {
			n++
		}
	}
	if n > 1 {
		return parley.Errorf(parley.CodeInvalid,
			"separation of duties: nobody may hold more than one of system_admin, security_admin and auditor")
	}
	return nil
}

// GrantContext is what CheckGrant needs to know about the deployment.
type GrantContext struct {
	// SecurityAdminExists ends the bootstrap period (API-CORE.md, Z10).
	SecurityAdminExists bool
	// SetupAdminID is the administrator created by setup, who may grant
	// any role until the first security_admin exists.
	SetupAdminID parley.UserID
}

// CheckGrant decides whether grantor may give target the roles (beyond the
// "user" role every account holds). Nobody grants roles to themselves (Z9);
// only a security_admin grants roles (Z10), except the setup administrator
// during bootstrap.
func CheckGrant(grantor *parley.Actor, target parley.UserID, roles []parley.Role, gc GrantContext) error {
	if err := CheckRoleSet(roles); err != nil {
		return err
	}
	extra := slices.ContainsFunc(roles, func(r parley.Role) bool { return r != parley.RoleUser })
	if !extra {
		return nil
	}
	if grantor.UserID == target {
		return parley.Errorf(parley.CodeForbidden, "nobody grants roles to themselves")
	}
	if grantor.HasRole(parley.RoleSecurityAdmin) {
		return nil
	}
	if !gc.SecurityAdminExists && gc.SetupAdminID != "" && grantor.UserID == gc.SetupAdminID {
		return nil
	}
	return parley.Errorf(parley.CodeForbidden, "only a security_admin grants roles")
}
