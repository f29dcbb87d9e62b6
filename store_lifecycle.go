package parley

import (
	"context"
	"time"
)

// AccountKind tells the account of a person from a service account (Z11).
type AccountKind string

const (
	// AccountPerson is one person's account (the default): one person per
	// account, no shared accounts (Z11).
	AccountPerson AccountKind = "person"
	// AccountService is a machine's account: marked as such, it never logs
	// in interactively (a password login is refused), holds no
	// administrator role and authenticates with API tokens only (Z11).
	AccountService AccountKind = "service"
)

// InactivityLimit is how long an account may go unused before it is
// disabled (Z11, checklist value: 90 days).
const InactivityLimit = 90 * 24 * time.Hour

// MaxServiceTokenLifetime bounds an API token's life (Z11): every token
// expires, at the latest 90 days after it was issued.
const MaxServiceTokenLifetime = 90 * 24 * time.Hour

// IsService reports whether u is a service account.
func (u *User) IsService() bool { return u.Kind == AccountService }

// LastUse is when the account was last used: its last complete login (or
// token use), or its creation if it never logged in.
func (u *User) LastUse() time.Time {
	if u.LastLoginAt.After(u.CreatedAt) {
		return u.LastLoginAt
	}
	return u.CreatedAt
}

// Inactive reports whether u has gone unused for InactivityLimit at now
// (Z11).
func (u *User) Inactive(now time.Time) bool {
	return !now.Before(u.LastUse().Add(InactivityLimit))
}

// Expired reports whether u's end date has come at now (Z11): the account
// expires on it.
func (u *User) Expired(now time.Time) bool {
	return !u.EndAt.IsZero() && !now.Before(u.EndAt)
}

// SparedFromInactivity reports whether the inactivity rule spares u: the
// only active account holding system_admin is never disabled for want of
// use, because nobody would then be left to reactivate accounts (this one
// included) and the deployment would be locked for good. An end date still
// applies to it.
func SparedFromInactivity(ctx context.Context, s LifecycleStore, u *User) (bool, error) {
	if !u.HasRole(RoleSystemAdmin) || u.Status != UserActive {
		return false, nil
	}
	n, err := s.CountActiveHolders(ctx, RoleSystemAdmin)
	if err != nil {
		return false, err
	}
	return n <= 1, nil
}

// ServiceToken is an API token of a service account (Z11). Like a session
// token it is 256 random bits that the store never sees: it keeps only
// TokenHash (A7). ID is the non-secret handle for listing and revoking; it
// also stands in for a session ID, so that revoking a token closes the
// WebSockets opened with it.
type ServiceToken struct {
	ID         string // "st_…"
	UserID     UserID
	Name       string
	TokenHash  []byte
	CreatedBy  UserID
	CreatedAt  time.Time
	ExpiresAt  time.Time // absolute; there is no idle timeout
	LastUsedAt time.Time // zero: never used
}

// ConversationExit is what offboarding did to one conversation of the
// leaver: their membership is gone (their messages stay), and if they owned
// it, ownership moved to NewOwner (empty: nobody is left, the conversation
// is kept read-only).
type ConversationExit struct {
	ConversationID ConversationID
	Type           ConversationType
	WasOwner       bool
	NewOwner       UserID
	Remaining      int // members left
}

// OffboardResult is everything OffboardUser removed, for the audit trail.
type OffboardResult struct {
	Roles         []*RoleGrant // grants revoked ("user" is kept)
	TokenIDs      []string     // service tokens deleted
	Passkeys      int
	TOTP          bool // a TOTP secret was removed
	RecoveryCodes int
	Contacts      int // verified one-time-code addresses
	Conversations []ConversationExit
}

// Offboarding is one offboarding, as the store applies it.
type Offboarding struct {
	UserID    UserID
	Successor UserID // preferred new owner of the leaver's groups; may be empty
	At        time.Time
	By        UserID
	Reason    string
}

// LifecycleStore keeps account kinds, end dates, last use, disabling and
// service tokens (Z8, Z11). sqldb implements it; its schema is
// sqldb/migrations/*/0007_lifecycle.sql.
type LifecycleStore interface {
	// OffboardUser applies an offboarding in one transaction (Z8): the
	// account is disabled (CodeConflict unless it was active), every role
	// grant but "user" revoked, every passkey, TOTP secret, recovery code,
	// code address, pending one-time code and push request and every
	// service token deleted, and the user removed from every conversation
	// (messages stay). Ownership of each conversation the user owned moves
	// to o.Successor if that user is a member, else to the longest-standing
	// remaining member, else to nobody. Sessions are not touched: the
	// caller ends them (the disabled status already refuses them).
	OffboardUser(ctx context.Context, o Offboarding) (*OffboardResult, error)
	// ReactivateUser makes a disabled account active again with a new
	// password hash (the old one moves into the history, keeping keep
	// entries) whose change time is zero, so that the user must replace
	// it. LastLoginAt becomes at, so the inactivity rule starts afresh, and
	// an end date that has passed by at is cleared. CodeConflict unless the
	// account was disabled.
	ReactivateUser(ctx context.Context, id UserID, passwordHash string, at time.Time, keep int) error
	// DisableUser disables an active account, recording when, by whom
	// (empty: the server) and why; CodeConflict unless it was active.
	DisableUser(ctx context.Context, id UserID, at time.Time, by UserID, reason string) error
	// SetUserEndDate sets the end date (zero clears it).
	SetUserEndDate(ctx context.Context, id UserID, end time.Time) error
	// TouchLastLogin records a complete login at `at` (never moving back).
	TouchLastLogin(ctx context.Context, id UserID, at time.Time) error
	// LapsedUsers returns up to limit active accounts whose end date is at
	// or before now, or whose last use (LastUse) is at or before
	// unusedSince.
	LapsedUsers(ctx context.Context, unusedSince, now time.Time, limit int) ([]*User, error)
	// CountActiveHolders counts the active accounts that hold role.
	CountActiveHolders(ctx context.Context, role Role) (int, error)

	// CreateServiceToken stores t unless its user already has max tokens
	// (CodeConflict); an unknown user is CodeNotFound.
	CreateServiceToken(ctx context.Context, t *ServiceToken, max int) error
	// ServiceTokenByHash finds a token by the hash of its secret;
	// CodeNotFound if none.
	ServiceTokenByHash(ctx context.Context, hash []byte) (*ServiceToken, error)
	// ListServiceTokens returns the user's tokens, oldest first.
	ListServiceTokens(ctx context.Context, user UserID) ([]*ServiceToken, error)
	// DeleteServiceToken deletes the user's token id; another user's token
	// is CodeNotFound.
	DeleteServiceToken(ctx context.Context, user UserID, id string) error
	// TouchServiceToken records a use of the token at `at`, and counts it
	// as the use of its account (LastLoginAt), in one transaction.
	TouchServiceToken(ctx context.Context, id string, user UserID, at time.Time) error
	// DeleteExpiredServiceTokens removes tokens expired before now.
	DeleteExpiredServiceTokens(ctx context.Context, now time.Time) (int, error)
}
