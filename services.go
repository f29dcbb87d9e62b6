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
