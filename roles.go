package parley

import (
	"context"
	"time"
)

// RoleGrant is one role held by a user (Z1), optionally limited to a
// department and its sub-departments. Who granted it and when, and when it
// was last used, feed the access review (Z8).
type RoleGrant struct {
	UserID UserID
	Role   Role
	// Scope is the root of the department subtree the grant covers; empty
	// for an organisation-wide grant. department_admin always has one.
	Scope      DepartmentID
	GrantedBy  UserID // empty for setup (bootstrap)
	GrantedAt  time.Time
	LastUsedAt time.Time // zero: never used since it was granted
}

// CustomRole is a role an administrator defines as a minimal set of
// permissions (Z6). Its ID is "custom:" followed by a random suffix, so it
// can never be mistaken for a built-in role.
type CustomRole struct {
	ID          Role
	Name        string
	Description string
	Permissions []string
	CreatedBy   UserID
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// PermBits is a set of permissions as a bit mask. Package authz assigns the
// bits; everything else treats the value as opaque.
type PermBits uint64

// ScopedPerms is what one grant lets its holder do, and where.
type ScopedPerms struct {
	Scope DepartmentID // empty: everywhere
	Bits  PermBits
}

// RoleCheck vets a role change against the state inside the store's
// transaction: the grants of each affected user (by user) and every custom
// role. It must not do I/O.
type RoleCheck func(grants map[UserID][]RoleGrant, custom []*CustomRole) error

// RoleStore keeps role grants and custom roles.
type RoleStore interface {
	// RevokeRole removes one grant; CodeNotFound if the user has no such
	// grant.
	RevokeRole(ctx context.Context, user UserID, role Role, scope DepartmentID) error
	// RevokeAllRoles removes every grant of the user except "user" and
	// returns what it removed (offboarding, Z8).
	RevokeAllRoles(ctx context.Context, user UserID) ([]*RoleGrant, error)
	// ListGrants returns every grant of every user, ordered by user.
	ListGrants(ctx context.Context) ([]*RoleGrant, error)
	// TouchGrants sets LastUsedAt of the user's grants of role to at.
	TouchGrants(ctx context.Context, user UserID, role Role, at time.Time) error

	// GrantRoleChecked adds g — the same (user, role, scope) again is
	// CodeConflict, an unknown user CodeNotFound — after calling check with
	// the user's grants and the custom roles as they are inside the
	// transaction, under a lock every role change takes: two concurrent
	// changes cannot together break a rule each passes alone (Z10).
	// With approve set, the same transaction first moves that pending
	// request to approved (CodeConflict if it is no longer pending), so an
	// approval and its grant happen together or not at all.
	GrantRoleChecked(ctx context.Context, g *RoleGrant, check RoleCheck, approve *GrantApproval) error
	// UpdateCustomRoleChecked is UpdateCustomRole under the same lock;
	// check sees the holders' grants and the custom roles with r applied.
	UpdateCustomRoleChecked(ctx context.Context, r *CustomRole, check RoleCheck) error

	CreateCustomRole(ctx context.Context, r *CustomRole) error
	UpdateCustomRole(ctx context.Context, r *CustomRole) error
	// DeleteCustomRole deletes the role; CodeConflict while anyone holds it.
	DeleteCustomRole(ctx context.Context, id Role) error
	CustomRoles(ctx context.Context) ([]*CustomRole, error)
}

// Grant request states (two-person rule, Z9).
const (
	GrantRequestPending  = "pending"
	GrantRequestApproved = "approved"
	GrantRequestDenied   = "denied"
	GrantRequestExpired  = "expired"
)

// GrantRequest is an administrator-role grant waiting for a second
// administrator, under the two_person policy (Z9).
type GrantRequest struct {
	ID          string
	UserID      UserID
	Role        Role
	Scope       DepartmentID
	Reason      string
	RequestedBy UserID
	RequestedAt time.Time
	ExpiresAt   time.Time
	Status      string
	DecidedBy   UserID
	DecidedAt   time.Time
}

// GrantApproval is the decision that a two-person request's grant carries
// out.
type GrantApproval struct {
	RequestID string
	By        UserID
	At        time.Time
}

// GrantRequestStore keeps two-person grant requests.
type GrantRequestStore interface {
	CreateGrantRequest(ctx context.Context, r *GrantRequest) error
	GrantRequestByID(ctx context.Context, id string) (*GrantRequest, error)
	// ListGrantRequests returns the requests in status (all if empty),
	// newest first.
	ListGrantRequests(ctx context.Context, status string) ([]*GrantRequest, error)
	// DecideGrantRequest moves a pending request to status; CodeConflict
	// if it is no longer pending (decided twice, or by two at once).
	DecideGrantRequest(ctx context.Context, id, status string, by UserID, at time.Time) error
}
