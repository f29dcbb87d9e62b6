// Package authz holds the permission table of Parley: every API and
// WebSocket operation names one Permission, and roles are sets of them (Z1).
// Anything not granted is denied. A grant may be limited to a department
// subtree (department_admin always is), so a check is either "held
// anywhere" (Check, the router's gate) or "held over this department"
// (CheckIn, the service's check on the object). The rules for who may grant
// which role — separation of duties and the three-way split of
// administrators (Z9, Z10) — live here too, so that every caller enforces
// the same ones.
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
	// session, MFA, isolation): the security admin's (Z10).
	PermSecurityPolicy Permission = "security.policy"
	// PermUsersUnlock lifts a lockout (A9).
	PermUsersUnlock Permission = "users.unlock"
	// PermSystemInfo reads the server's build information and SBOM (V1):
	// the system admin's. It reveals versions, not data.
	PermSystemInfo Permission = "system.info"
	// PermRolesRead lists roles and who holds them.
	PermRolesRead Permission = "roles.read"
	// PermRolesGrant grants and revokes roles and decides two-person
	// requests: the security admin's alone (Z9, Z10).
	PermRolesGrant Permission = "roles.grant"
	// PermRolesManage creates, edits and deletes custom roles (Z6).
	PermRolesManage Permission = "roles.manage"
	// PermUsersManage offboards and reactivates accounts and sets their
	// kind and end date (Z8, Z11): the system admin's.
	PermUsersManage Permission = "users.manage"
	// PermSupervise opens time-boxed supervised access to the
	// conversations of a department's members and acts on them (Z3, D3).
	// department_admin holds it over its department only.
	PermSupervise Permission = "supervision"
	// PermSupervisionApprove approves supervision requests where policy
	// wants a second pair of eyes: the auditor's (Z5 oversight).
	PermSupervisionApprove Permission = "supervision.approve"
	// PermAccessReview reads the access-review report and records review
	// decisions (Z8).
	PermAccessReview Permission = "access.review"
)

// All lists every permission the router may name; a test checks that each
// route names one of these. At most 64: a set of them is a bit mask.
var All = []Permission{
	PermPublic, PermSelf,
	PermConversationsCreate, PermConversationsRead, PermMessagesSend, PermMessagesRead,
	PermDirectoryRead, PermUsersCreate, PermDepartmentsManage, PermAuditRead,
	PermCredentials, PermSecurityPolicy, PermUsersUnlock, PermSystemInfo,
	PermRolesRead, PermRolesGrant, PermRolesManage, PermUsersManage,
	PermSupervise, PermSupervisionApprove, PermAccessReview,
}

// sensitive is the one table of operations that need a second factor used
// within the step-up window (A6); TestSensitiveOperations pins it.
var sensitive = map[Permission]bool{
	PermCredentials:    true,
	PermSecurityPolicy: true,
	PermUsersUnlock:    true,
	PermRolesGrant:     true,
	PermRolesManage:    true,
	PermUsersManage:    true,
	PermSupervise:      true,
	// Approving supervision opens someone's conversations to a reader.
	PermSupervisionApprove: true,
}

// NeedsStepUp reports whether operations under p are sensitive (A6).
func NeedsStepUp(p Permission) bool { return sensitive[p] }

// userPerms is what every account holds through the "user" role.
var userPerms = []Permission{
	PermSelf, PermCredentials, PermConversationsCreate, PermConversationsRead,
	PermMessagesSend, PermMessagesRead, PermDirectoryRead,
}

// builtin maps each built-in role to its minimal permission set (Z2–Z5).
// system_admin has no permission that reads message content (Z4): it reads
// its own conversations only through the "user" role every account holds.
// auditor reads the audit trail and reviews, and changes nothing (Z5).
// department_admin's supervision is scoped to its department (Z3).
var builtin = map[parley.Role][]Permission{
	parley.RoleUser:            userPerms,
	parley.RoleDepartmentAdmin: {PermSelf, PermCredentials, PermDirectoryRead, PermSupervise},
	parley.RoleSystemAdmin: {PermSelf, PermCredentials, PermDirectoryRead, PermUsersCreate, PermUsersManage,
		PermDepartmentsManage, PermUsersUnlock, PermSystemInfo, PermRolesRead},
	parley.RoleSecurityAdmin: {PermSelf, PermCredentials, PermDirectoryRead, PermSecurityPolicy, PermUsersUnlock,
		PermRolesRead, PermRolesGrant, PermRolesManage, PermAccessReview},
	parley.RoleAuditor: {PermSelf, PermCredentials, PermAuditRead, PermRolesRead, PermAccessReview, PermSupervisionApprove},
}

// BuiltinPermissions returns the permissions of a built-in role (nil for
// any other).
func BuiltinPermissions(r parley.Role) []Permission { return slices.Clone(builtin[r]) }

// Builtin lists the built-in roles in a fixed order.
func Builtin() []parley.Role {
	return []parley.Role{parley.RoleUser, parley.RoleDepartmentAdmin, parley.RoleSystemAdmin,
		parley.RoleSecurityAdmin, parley.RoleAuditor}
}

// Known reports whether r is a built-in role.
func Known(r parley.Role) bool {
	_, ok := builtin[r]
	return ok
}

// Allowed reports whether a holder of built-in roles may perform an
// operation that needs p somewhere. Deny by default: an unknown role grants
// nothing.
func Allowed(roles []parley.Role, p Permission) bool {
	b := bitOf(p)
	for _, r := range roles {
		if builtinBits[r]&b != 0 {
			return true
		}
	}
	return false
}

// perms returns the actor's resolved permissions. An actor built without
// them (tests, tools) gets its built-in roles, department_admin scoped to
// its own department.
func perms(a *parley.Actor) []parley.ScopedPerms {
	if a.Perms != nil {
		return a.Perms
	}
	return builtinCatalog.Resolve(GrantsFromRoles(a.UserID, a.Roles, a.DepartmentID))
}

// Holds reports whether the actor holds p in any scope: the router's gate.
// The service then checks the object's department with CheckIn where the
// permission is scoped.
func Holds(a *parley.Actor, p Permission) bool {
	b := bitOf(p)
	if b == 0 {
		return false
	}
	for _, sp := range perms(a) {
		if sp.Bits&b != 0 {
			return true
		}
	}
	return false
}

// Check returns nil if the actor holds p, and a forbidden error otherwise.
func Check(a *parley.Actor, p Permission) error {
	if Holds(a, p) {
		return nil
	}
	return parley.Errorf(parley.CodeForbidden, "permission %s required", p)
}

// HoldsIn reports whether the actor holds p over department d: through an
// organisation-wide grant, or one whose scope contains d.
func HoldsIn(a *parley.Actor, p Permission, d parley.DepartmentID, t *Tree) bool {
	b := bitOf(p)
	if b == 0 {
		return false
	}
	for _, sp := range perms(a) {
		if sp.Bits&b != 0 && (sp.Scope == "" || t.Within(d, sp.Scope)) {
			return true
		}
	}
	return false
}

// Scopes returns the department subtrees over which the actor holds p;
// all is true when it holds p organisation-wide.
func Scopes(a *parley.Actor, p Permission) (scopes []parley.DepartmentID, all bool) {
	b := bitOf(p)
	for _, sp := range perms(a) {
		if sp.Bits&b == 0 {
			continue
		}
		if sp.Scope == "" {
			return nil, true
		}
		scopes = append(scopes, sp.Scope)
	}
	return scopes, false
}

// RequiresMFA reports whether a holder of roles must enrol MFA before doing
// anything else (A2: every administrative role, custom ones included).
func RequiresMFA(roles []parley.Role) bool {
	for _, r := range roles {
		if r != parley.RoleUser {
			return true
		}
	}
	return false
}
