package wire

import "time"

// Bodies of the account lifecycle (Z8, Z11): offboarding, reactivation,
// end dates and the API tokens of service accounts. Every operation is the
// system admin's (users.manage, with step-up).

// Account kinds of CreateUserRequest.Kind and Account.Kind.
const (
	KindPerson  = "person"
	KindService = "service"
)

// OffboardRequest offboards an account (POST /api/v1/users/{id}/offboard).
// SuccessorID, if given, takes over the groups the leaver owned where they
// are a member; otherwise the longest-standing remaining member does.
type OffboardRequest struct {
	SuccessorID string `json:"successor_id,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// OffboardResponse says what the offboarding removed.
type OffboardResponse struct {
	UserID               string              `json:"user_id"`
	Status               string              `json:"status"`         // "disabled"
	RolesRevoked         []string            `json:"roles_revoked"`  // "role" or "role@department"; "user" is kept
	TokensRevoked        int                 `json:"tokens_revoked"` // service tokens
	PasskeysRemoved      int                 `json:"passkeys_removed"`
	TOTPRemoved          bool                `json:"totp_removed"`
	RecoveryCodesRemoved int                 `json:"recovery_codes_removed"`
	ContactsRemoved      int                 `json:"contacts_removed"` // one-time-code addresses
	ConversationsLeft    []string            `json:"conversations_left"`
	OwnershipTransferred []OwnershipTransfer `json:"ownership_transferred"`
}

// OwnershipTransfer is one conversation the leaver owned. NewOwnerID is
// empty when no member is left (the conversation is kept, read-only).
type OwnershipTransfer struct {
	ConversationID string `json:"conversation_id"`
	NewOwnerID     string `json:"new_owner_id"`
}

// ReactivateRequest makes a disabled account active again (POST
// /api/v1/users/{id}/reactivate). Password is the new password (the policy
// applies; the user must change it at the next login); a service account
// may be given none.
type ReactivateRequest struct {
	Password string `json:"password"`
	Reason   string `json:"reason,omitempty"`
}

// Account is an account's lifecycle state (GET /api/v1/users/{id}/account).
// Absent times are "never" / "none".
type Account struct {
	UserID         string     `json:"user_id"`
	Username       string     `json:"username"`
	DisplayName    string     `json:"display_name"`
	Kind           string     `json:"kind"`   // "person" or "service"
	Status         string     `json:"status"` // "active" or "disabled"
	Roles          []string   `json:"roles"`
	CreatedAt      time.Time  `json:"created_at"`
	EndDate        *time.Time `json:"end_date,omitempty"`
	LastLoginAt    *time.Time `json:"last_login_at,omitempty"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	DisabledBy     string     `json:"disabled_by,omitempty"` // empty: by the server (inactivity, end date)
	DisabledReason string     `json:"disabled_reason,omitempty"`
}

// EndDateRequest sets the date on which an account expires (PUT
// /api/v1/users/{id}/end-date); null or absent clears it.
type EndDateRequest struct {
	EndDate *time.Time `json:"end_date"`
}

// CreateServiceTokenRequest issues an API token for a service account
// (POST /api/v1/users/{id}/tokens). ExpiresInDays is 1 to 90 (default 90).
type CreateServiceTokenRequest struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expires_in_days,omitempty"`
}

// ServiceTokenCreated carries the token's secret: shown once, never again.
type ServiceTokenCreated struct {
	TokenID   string    `json:"token_id"`
	Token     string    `json:"token"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ServiceToken is a token as listed (without its secret).
type ServiceToken struct {
	TokenID    string     `json:"token_id"`
	Name       string     `json:"name"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// ServiceTokenList answers GET /api/v1/users/{id}/tokens.
type ServiceTokenList struct {
	Tokens []ServiceToken `json:"tokens"`
}
