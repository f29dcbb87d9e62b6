package parley

import (
	"context"
	"time"
)

// The service interfaces below are what the transport (httpapi) sees of
// the services, so that it depends on this package and not on auth or chat
// (DESIGN.md §2 dependency direction).

// RequestMeta is what the transport knows about a request's origin.
type RequestMeta struct {
	SourceIP  string
	UserAgent string
}

// Issued is a new session's bearer token; the server keeps only its hash.
type Issued struct {
	Token     string
	ExpiresAt time.Time
	SessionID string
}

// LoginResult is either a session (Issued) or a second-factor challenge.
type LoginResult struct {
	Issued   *Issued
	MFAToken string   // set when a second factor is due
	Methods  []string // the factors the user can use
	// Notices are what the user must be told (NoticeAccountWasLocked,
	// NoticePasswordExpired); empty almost always.
	Notices []string
}

// SetupRequest creates the first administrator with the one-time token.
type SetupRequest struct {
	Token, Username, Password, DisplayName string
}

// NewUser is an account an administrator creates.
type NewUser struct {
	Username, DisplayName, Password string
	DepartmentID                    DepartmentID // the root department if empty
	Roles                           []Role       // "user" is always added
	// Kind is person (if empty) or service (Z11): a service account holds
	// no administrator role and needs no password (none: a random one
	// nobody knows). EndAt, if set, is when the account expires.
	Kind  AccountKind
	EndAt time.Time
}

// UserUpdate is a change to an account's directory entry (M5); nil fields
// stay as they are. Roles, status, kind and username are not among them:
// they change only through their own audited operations.
type UserUpdate struct {
	DisplayName  *string
	DepartmentID *DepartmentID
	Title        *string
}

// TOTPEnrollment is a TOTP secret to show the user once.
type TOTPEnrollment struct {
	Secret     string
	OtpauthURL string
}

// TOTPConfirmation is the result of a confirmed enrolment: one-time
// recovery codes and the session that replaces the caller's.
type TOTPConfirmation struct {
	RecoveryCodes []string
	Issued        *Issued
}

// AuthService is authentication, sessions and accounts (package auth).
type AuthService interface {
	Setup(ctx context.Context, req SetupRequest, m RequestMeta) (UserID, error)
	Login(ctx context.Context, username, password string, m RequestMeta) (*LoginResult, error)
	CompleteMFA(ctx context.Context, mfaToken, method, code string, m RequestMeta) (*Issued, error)
	// Authenticate resolves a bearer token; userAction says whether the
	// request counts as activity for the idle timeout (A5).
	Authenticate(ctx context.Context, token string, m RequestMeta, userAction bool) (*Actor, error)
	Logout(ctx context.Context, a *Actor) error
	EnrollTOTP(ctx context.Context, a *Actor) (*TOTPEnrollment, error)
	ConfirmTOTP(ctx context.Context, a *Actor, code string, m RequestMeta) (*TOTPConfirmation, error)
	Me(ctx context.Context, a *Actor) (*User, error)
	CreateUser(ctx context.Context, a *Actor, req NewUser) (UserID, error)
	Sessions(ctx context.Context, a *Actor) ([]*Session, error)
	RevokeSession(ctx context.Context, a *Actor, id string) error
	// RequireStepUp refuses with step_up_required unless the actor used
	// a second factor recently (A6); StepUp provides one.
	RequireStepUp(a *Actor) error
	StepUp(ctx context.Context, a *Actor, method, code, password string, m RequestMeta) (*Issued, error)
}

// SendResult is a stored message; Duplicate says an earlier request with the
// same client_msg_id stored it (an idempotent retry).
type SendResult struct {
	Message   *Message
	Duplicate bool
}

// PendingSend is a message accepted for storage; Wait returns once it is
// durable or failed.
type PendingSend interface {
	Wait(ctx context.Context) (*SendResult, error)
	ClientMsgID() string
}

// ChatService is conversations and messages (package chat).
type ChatService interface {
	CreateConversation(ctx context.Context, a *Actor, typ ConversationType, memberIDs []UserID, title string) (*Conversation, error)
	Conversations(ctx context.Context, a *Actor) ([]*Conversation, error)
	// Submit queues a message and returns at once; Send waits for it.
	Submit(ctx context.Context, a *Actor, id ConversationID, clientMsgID, body string) (PendingSend, error)
	Send(ctx context.Context, a *Actor, id ConversationID, clientMsgID, body string) (*SendResult, error)
	// History returns messages after afterSeq, or with before > 0 the
	// newest page below before, ascending, bodies decrypted.
	History(ctx context.Context, a *Actor, id ConversationID, afterSeq, before int64, limit int) ([]*Message, error)
	MarkRead(ctx context.Context, a *Actor, id ConversationID, seq int64) error
	ReadMarkers(ctx context.Context, a *Actor, id ConversationID) (map[UserID]int64, error)
	Typing(ctx context.Context, a *Actor, id ConversationID) error
}

// DirectoryService is the organisation directory (package directory).
type DirectoryService interface {
	Users(ctx context.Context, a *Actor, query string, limit int) ([]*User, error)
	// UsersInDepartment is Users limited to dept and its sub-departments
	// (not_found for an unknown department), isolation applied alike.
	UsersInDepartment(ctx context.Context, a *Actor, dept DepartmentID, query string, limit int) ([]*User, error)
	// UpdateUser changes another account's display name, department and
	// title (system admins, users.manage); not_found for an unknown user
	// or department.
	UpdateUser(ctx context.Context, a *Actor, id UserID, upd UserUpdate) (*User, error)
	// UpdateMe changes the caller's own display name: the one field of
	// the directory entry a user owns.
	UpdateMe(ctx context.Context, a *Actor, displayName string) (*User, error)
	CreateDepartment(ctx context.Context, a *Actor, name string, parent DepartmentID) (*Department, error)
	Departments(ctx context.Context, a *Actor) ([]*Department, error)
	// UpdateDepartment renames a department and/or moves it under another.
	UpdateDepartment(ctx context.Context, a *Actor, id DepartmentID, name *string, parent *DepartmentID) (*Department, error)
	// MergeDepartment moves from's members and sub-departments into into
	// and deletes from.
	MergeDepartment(ctx context.Context, a *Actor, from, into DepartmentID) error
}

// AuditService reads the audit trail (package audit).
type AuditService interface {
	List(ctx context.Context, a *Actor, afterSeq int64, limit int) ([]*AuditRecord, error)
}

// RoleInfo describes a role: built-in or custom, with its permissions.
type RoleInfo struct {
	ID          Role
	Name        string
	Description string
	Builtin     bool
	Permissions []string
	// Admin says the role carries more than the "user" role: it needs MFA
	// and no service account may hold it.
	Admin bool
}

// GrantOutcome says what a grant request did: granted at once, or waiting
// for a second administrator (RequestID set).
type GrantOutcome struct {
	Granted   bool
	RequestID string
}

// AccessReviewEntry is one user in the access review (Z8).
type AccessReviewEntry struct {
	User   *User
	Grants []RoleGrant
	// Flags: "unused_90d:<role>@<scope>" for a grant beyond "user" not used
	// for 90 days, "leaver_with_access" for a disabled account that still
	// holds more than "user".
	Flags []string
}

// AccessReview is the report of who holds what (Z8).
type AccessReview struct {
	GeneratedAt time.Time
	Entries     []*AccessReviewEntry
}

// AccessService is roles, grants and the access review (package access).
type AccessService interface {
	Roles(ctx context.Context, a *Actor) ([]RoleInfo, error)
	CreateRole(ctx context.Context, a *Actor, name, description string, perms []string) (*CustomRole, error)
	UpdateRole(ctx context.Context, a *Actor, id Role, name, description *string, perms []string) (*CustomRole, error)
	DeleteRole(ctx context.Context, a *Actor, id Role) error
	UserGrants(ctx context.Context, a *Actor, user UserID) ([]RoleGrant, error)
	Grant(ctx context.Context, a *Actor, user UserID, role Role, scope DepartmentID, reason string) (*GrantOutcome, error)
	Revoke(ctx context.Context, a *Actor, user UserID, role Role, scope DepartmentID, reason string) error
	GrantRequests(ctx context.Context, a *Actor) ([]*GrantRequest, error)
	DecideGrantRequest(ctx context.Context, a *Actor, id string, approve bool) (*GrantOutcome, error)
	TwoPerson(ctx context.Context, a *Actor) (bool, error)
	SetTwoPerson(ctx context.Context, a *Actor, on bool) error
	AccessReview(ctx context.Context, a *Actor) (*AccessReview, error)
	// ConfirmReview records a reviewer's decision to keep a grant.
	ConfirmReview(ctx context.Context, a *Actor, user UserID, role Role, scope DepartmentID, note string) error
	// NoteUse records that the actor just used perm (last use per grant,
	// for the review); cheap, throttled, never fails the request.
	NoteUse(ctx context.Context, a *Actor, perm string)
}

// LifecycleService is offboarding, reactivation and account hygiene (Z8,
// Z11; package lifecycle). Every operation is the system admin's
// (users.manage), audited, and answers an unknown user with not_found.
type LifecycleService interface {
	// Offboard disables the account at once and removes everything it
	// holds: sessions (WebSockets closed), service tokens, roles beyond
	// "user", device keys and second factors, conversation memberships
	// (messages stay), ownership (to successor where a member). Refused
	// for oneself (forbidden) and for an account that is not active
	// (conflict).
	Offboard(ctx context.Context, a *Actor, id, successor UserID, reason string) (*OffboardResult, error)
	// Reactivate makes a disabled account active again with a password set
	// by the administrator, which the user must change at the next login;
	// no roles or memberships come back.
	Reactivate(ctx context.Context, a *Actor, id UserID, password, reason string) (*User, error)
	// Account returns the account with its lifecycle state.
	Account(ctx context.Context, a *Actor, id UserID) (*User, error)
	// SetEndDate sets (zero: clears) the date on which the account expires.
	SetEndDate(ctx context.Context, a *Actor, id UserID, end time.Time) (*User, error)
	// CreateServiceToken issues an API token for a service account; the
	// secret is returned once and never stored.
	CreateServiceToken(ctx context.Context, a *Actor, id UserID, name string, lifetime time.Duration) (*ServiceToken, string, error)
	ServiceTokens(ctx context.Context, a *Actor, id UserID) ([]*ServiceToken, error)
	RevokeServiceToken(ctx context.Context, a *Actor, id UserID, tokenID string) error
}
