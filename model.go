package parley

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Role is a named set of permissions (Z1). The built-in role IDs are fixed by
// API-CORE.md; custom roles get their own IDs.
type Role string

const (
	RoleUser            Role = "user"
	RoleDepartmentAdmin Role = "department_admin"
	RoleSystemAdmin     Role = "system_admin"
	RoleSecurityAdmin   Role = "security_admin"
	RoleAuditor         Role = "auditor"
)

// UserStatus is the lifecycle state of an account.
type UserStatus string

const (
	UserActive   UserStatus = "active"
	UserDisabled UserStatus = "disabled"
)

// User is an account. Secrets it carries are already protected: PasswordHash
// is an argon2id PHC string (A7) and TOTPSecretSealed is AES-256-GCM
// ciphertext under a keyring key (D2); neither is ever sent to a client.
type User struct {
	ID           UserID
	Username     string
	DisplayName  string
	DepartmentID DepartmentID
	// Title is the job title the directory shows (M5), empty for none. A
	// system admin sets it, never the user (it reads as the
	// organisation's word).
	Title string
	// Roles are the distinct roles of Grants; Grants carry scopes and
	// history (roles.go).
	Roles             []Role
	Grants            []RoleGrant
	Status            UserStatus
	PasswordHash      string
	PasswordChangedAt time.Time
	// TOTP (RFC 6238). TOTPSecretSealed is nil until enrolment starts;
	// MFAEnrolled becomes true only after a code is confirmed.
	TOTPSecretSealed []byte
	MFAEnrolled      bool
	// TOTPLastStep is the last accepted time step: a code of that step or an
	// earlier one is a replay and is refused (A1).
	TOTPLastStep int64
	CreatedAt    time.Time
	// Account lifecycle (Z8, Z11; store_lifecycle.go). Kind is person or
	// service; EndAt, if set, is when the account expires; LastLoginAt is
	// the last complete login (for a service account, the last use of an
	// API token), zero if never; the Disabled fields say who disabled the
	// account, when and why (empty By: the server itself). A zero
	// PasswordChangedAt marks a password an administrator set at
	// reactivation (Z8): the user must replace it at the next login.
	Kind           AccountKind
	EndAt          time.Time
	LastLoginAt    time.Time
	DisabledAt     time.Time
	DisabledBy     UserID
	DisabledReason string
}

// HasRole reports whether u holds r.
func (u *User) HasRole(r Role) bool {
	for _, have := range u.Roles {
		if have == r {
			return true
		}
	}
	return false
}

// MaxNameLen bounds display names and titles, in characters.
const MaxNameLen = 128

// ValidateDisplayName allows 1–128 characters that CleanText accepts: no
// control, invisible or bidirectional-override characters, no words mixing
// look-alike scripts (I3), so that a name cannot disguise itself as a
// colleague's. Account creation and every later change apply it.
func ValidateDisplayName(name string) error {
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > MaxNameLen {
		return Errorf(CodeInvalid, "display_name must be 1 to %d characters", MaxNameLen)
	}
	if !CleanText(name) {
		return Errorf(CodeInvalid, "display_name contains control, invisible, bidirectional-override or mixed-script characters")
	}
	return nil
}

// ValidateTitle applies the display-name rules to a job title, which may
// be empty (none).
func ValidateTitle(title string) error {
	if utf8.RuneCountInString(title) > MaxNameLen {
		return Errorf(CodeInvalid, "title must be at most %d characters", MaxNameLen)
	}
	if !CleanText(title) {
		return Errorf(CodeInvalid, "title contains control, invisible, bidirectional-override or mixed-script characters")
	}
	return nil
}

// Department is a node of the organisation tree (M5). The root has no parent.
type Department struct {
	ID        DepartmentID
	ParentID  DepartmentID // empty for the root
	Name      string
	CreatedAt time.Time
}

// ConversationType distinguishes direct messages from groups (M1).
type ConversationType string

const (
	ConversationDirect ConversationType = "direct"
	ConversationGroup  ConversationType = "group"
)

// Conversation is a direct message or a group. LastSeq is the sequence number
// of its newest message; sequence numbers start at 1 and have no gaps.
type Conversation struct {
	ID        ConversationID
	Type      ConversationType
	Title     string
	MemberIDs []UserID
	CreatedBy UserID
	CreatedAt time.Time
	LastSeq   int64
	// DirectKey is set for direct conversations only: the two member IDs,
	// sorted and joined, so that a pair has at most one direct conversation.
	DirectKey string
	// KeyEpoch is the epoch of the data key that seals new messages (D2).
	KeyEpoch int
	// ReadOnly is computed, never stored: department isolation (Z7) no
	// longer lets every pair of members talk, so history stays readable
	// and sending is refused. Set on conversation lists only.
	ReadOnly bool
}

// HasMember reports whether id is a member of c.
func (c *Conversation) HasMember(id UserID) bool {
	for _, m := range c.MemberIDs {
		if m == id {
			return true
		}
	}
	return false
}

// Message is one message of a conversation. Body is plaintext and lives only
// in memory: stores persist Sealed (AES-256-GCM under the conversation's data
// key of KeyEpoch, AAD binding conversation, message ID and seq) and never
// Body.
type Message struct {
	ID             MessageID
	ConversationID ConversationID
	Seq            int64
	SenderID       UserID
	ClientMsgID    string
	SentAt         time.Time
	Body           []byte // plaintext; never stored
	KeyEpoch       int
	Sealed         []byte // ciphertext; what the store keeps
	// RecalledAt is set once the message was recalled (a supervision
	// action, Z3): its sealed body is destroyed and it reads as empty.
	RecalledAt time.Time
	RecalledBy UserID
	// E2EE marks a body encrypted on the sender's device (E1, not built
	// yet): the server holds only that ciphertext in Sealed and never
	// opens it, not even for supervision (Z3).
	E2EE bool
}

// ConversationKey is a per-conversation data-encryption key (DEK) of one
// epoch, wrapped by a key-encryption key (KEK) that never enters the
// database (D2, DESIGN.md §4).
type ConversationKey struct {
	ConversationID ConversationID
	Epoch          int
	KEKID          string
	Wrapped        []byte
	CreatedAt      time.Time
}

// SessionStage tells a full session from a login that passed the password
// but still owes its second factor (A9: such a login expires in 5 minutes).
type SessionStage string

const (
	SessionPendingMFA SessionStage = "pending_mfa"
	SessionActive     SessionStage = "active"
)

// Session is a server-side, revocable session (A5). The bearer token is 256
// random bits that the store never sees: it keeps only TokenHash (A7). ID is
// a separate, non-secret handle for listing and revoking.
type Session struct {
	ID           string
	TokenHash    []byte
	UserID       UserID
	Stage        SessionStage
	CreatedAt    time.Time
	LastActiveAt time.Time
	ExpiresAt    time.Time // absolute lifetime
	MFAAt        time.Time // when a second factor was last used; zero if never
	Attempts     int       // failed second-factor attempts (pending_mfa only)
	SourceIP     string
	UserAgent    string
}

// Audit results.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	ResultDenied  = "denied"
)

// AuditRecord is one entry of the append-only, hash-chained audit trail (L1,
// L3). Hash = H(PrevHash ‖ canonical encoding of the other fields); the audit
// package defines the encoding and verifies chains.
type AuditRecord struct {
	Seq       int64
	Time      time.Time
	ActorID   UserID // empty for an anonymous caller
	ActorName string // username as claimed or known; may be empty
	Action    string // e.g. "auth.login"
	Target    string // e.g. a user or conversation ID
	SourceIP  string
	Result    string // ResultSuccess, ResultFailure or ResultDenied
	Reason    string // why it failed, or the stated business reason
	PrevHash  []byte
	Hash      []byte
}

// Actor is the authenticated caller of an operation.
type Actor struct {
	UserID       UserID
	Username     string
	DepartmentID DepartmentID
	Roles        []Role
	// Perms is what the actor's grants allow, per scope, resolved once at
	// authentication (custom roles included); authz reads it.
	Perms     []ScopedPerms
	SessionID string
	MFAAt     time.Time
	SourceIP  string
	UserAgent string
	// MFAEnrollmentPending is true for a user whose roles demand MFA (A2)
	// and who has not enrolled yet: such a session may only enrol, read
	// "me" and log out (API-CORE.md).
	MFAEnrollmentPending bool
	// PasswordChangeRequired is true when the user's password is older
	// than the password policy allows (A3): such a session may only
	// change the password, read "me" and log out.
	PasswordChangeRequired bool
	// ConnID identifies the WebSocket connection an operation came from,
	// so that its own echo can be replaced by an ack; empty for REST.
	ConnID string
}

// HasRole reports whether the actor holds r.
func (a *Actor) HasRole(r Role) bool {
	for _, have := range a.Roles {
		if have == r {
			return true
		}
	}
	return false
}
