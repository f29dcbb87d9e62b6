package wire

import "time"

// Role is a built-in or custom role with its permissions (Z1, Z6).
type Role struct {
	RoleID      string   `json:"role_id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Builtin     bool     `json:"builtin"`
	Admin       bool     `json:"admin"`
	Permissions []string `json:"permissions"`
}

// RoleList lists roles.
type RoleList struct {
	Roles []Role `json:"roles"`
}

// CreateRoleRequest defines a custom role.
type CreateRoleRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Permissions []string `json:"permissions"`
}

// UpdateRoleRequest changes a custom role; absent fields stay.
type UpdateRoleRequest struct {
	Name        *string  `json:"name,omitempty"`
	Description *string  `json:"description,omitempty"`
	Permissions []string `json:"permissions,omitempty"`
}

// Grant is one role a user holds.
type Grant struct {
	Role         string     `json:"role"`
	DepartmentID string     `json:"department_id,omitempty"` // scope; absent: organisation-wide
	GrantedBy    string     `json:"granted_by,omitempty"`
	GrantedAt    time.Time  `json:"granted_at"`
	LastUsedAt   *time.Time `json:"last_used_at,omitempty"`
}

// GrantList lists a user's grants.
type GrantList struct {
	Grants []Grant `json:"grants"`
}

// GrantRoleRequest grants or revokes a role. department_id scopes
// department_admin (default: the user's department) and custom roles.
type GrantRoleRequest struct {
	Role         string `json:"role"`
	DepartmentID string `json:"department_id,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// GrantResult says whether a grant took effect or waits for a second
// administrator (two-person rule).
type GrantResult struct {
	Status    string `json:"status"` // "granted", "pending_approval" or "denied"
	RequestID string `json:"request_id,omitempty"`
}

// RoleGrantRequest is a two-person grant request.
type RoleGrantRequest struct {
	RequestID    string     `json:"request_id"`
	UserID       string     `json:"user_id"`
	Role         string     `json:"role"`
	DepartmentID string     `json:"department_id,omitempty"`
	Reason       string     `json:"reason"`
	RequestedBy  string     `json:"requested_by"`
	RequestedAt  time.Time  `json:"requested_at"`
	ExpiresAt    time.Time  `json:"expires_at"`
	Status       string     `json:"status"`
	DecidedBy    string     `json:"decided_by,omitempty"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
}

// RoleGrantRequestList lists two-person requests.
type RoleGrantRequestList struct {
	Requests []RoleGrantRequest `json:"requests"`
}

// RolePolicy is the role-grant policy (security admin's).
type RolePolicy struct {
	TwoPerson bool `json:"two_person"`
}

// AccessReviewUser is one user of the access review.
type AccessReviewUser struct {
	UserID       string   `json:"user_id"`
	Username     string   `json:"username"`
	DisplayName  string   `json:"display_name"`
	Status       string   `json:"status"`
	DepartmentID string   `json:"department_id"`
	Grants       []Grant  `json:"grants"`
	Flags        []string `json:"flags"`
}

// AccessReview is the report of who holds what (Z8).
type AccessReview struct {
	GeneratedAt time.Time          `json:"generated_at"`
	Users       []AccessReviewUser `json:"users"`
}

// ConfirmReviewRequest records a reviewer's decision to keep a grant.
type ConfirmReviewRequest struct {
	UserID       string `json:"user_id"`
	Role         string `json:"role"`
	DepartmentID string `json:"department_id,omitempty"`
	Note         string `json:"note,omitempty"`
}
