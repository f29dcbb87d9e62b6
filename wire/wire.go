// Package wire holds the JSON bodies of the REST API and the WebSocket
// frames, shared by the server (httpapi) and the SDK (client), and the strict
// decoder both use for untrusted bytes (I2): size-limited, unknown fields
// and trailing data rejected, UTF-8 checked.
//
// Field names and shapes here are the fixed points of API-CORE.md; changing
// one is an API version bump.
package wire

import "time"

// ErrorBody is the error shape of every non-2xx response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail carries a code from the closed set and a message for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// SetupRequest creates the first administrator with the one-time token (A4).
type SetupRequest struct {
	SetupToken  string `json:"setup_token"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
}

// UserIDResponse answers setup and user creation.
type UserIDResponse struct {
	UserID string `json:"user_id"`
}

// LoginRequest is the first step of login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoginResponse is either a session (Token, ExpiresAt) or an MFA challenge
// (MFARequired, MFAToken, Methods).
type LoginResponse struct {
	Token       string     `json:"token,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	MFARequired bool       `json:"mfa_required,omitempty"`
	MFAToken    string     `json:"mfa_token,omitempty"`
	Methods     []string   `json:"methods,omitempty"`
	// Notices tell the user what happened since their last login:
	// "account_was_locked" (A9), "password_expired" (A3: the session may
	// only change the password).
	Notices []string `json:"notices,omitempty"`
}

// MFARequest completes a login with a second factor. Method is "totp" or
// "recovery_code".
type MFARequest struct {
	MFAToken string `json:"mfa_token"`
	Method   string `json:"method"`
	Code     string `json:"code"`
}

// TokenResponse is a new session.
type TokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Empty is a request body that must be an empty object (or absent).
type Empty struct{}

// TOTPEnrollResponse starts TOTP enrolment (RFC 6238, SHA-1, 6 digits, 30 s).
type TOTPEnrollResponse struct {
	Secret     string `json:"secret"`
	OtpauthURL string `json:"otpauth_url"`
}

// TOTPConfirmRequest confirms enrolment with a current code.
type TOTPConfirmRequest struct {
	Code string `json:"code"`
}

// TOTPConfirmResponse returns one-time recovery codes and the replacement
// session (the session ID changes at every privilege change, A5).
type TOTPConfirmResponse struct {
	RecoveryCodes []string  `json:"recovery_codes"`
	Token         string    `json:"token"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// Me describes the caller.
type Me struct {
	UserID       string   `json:"user_id"`
	Username     string   `json:"username"`
	DisplayName  string   `json:"display_name"`
	DepartmentID string   `json:"department_id"`
	Roles        []string `json:"roles"`
	MFAEnrolled  bool     `json:"mfa_enrolled"`
	// Title is the job title (M5), "" for none; set by a system admin.
	Title string `json:"title"`
}

// CreateUserRequest creates an account. DepartmentID and Roles are optional.
type CreateUserRequest struct {
	Username     string   `json:"username"`
	DisplayName  string   `json:"display_name"`
	Password     string   `json:"password"`
	DepartmentID string   `json:"department_id,omitempty"`
	Roles        []string `json:"roles,omitempty"`
	// Kind is "person" (default) or "service" (Z11: never logs in
	// interactively, no administrator role, API tokens; password
	// optional). EndDate, if set, is when the account expires.
	Kind    string     `json:"kind,omitempty"`
	EndDate *time.Time `json:"end_date,omitempty"`
}

// UserSummary is a directory entry.
type UserSummary struct {
	UserID       string `json:"user_id"`
	Username     string `json:"username"`
	DisplayName  string `json:"display_name"`
	DepartmentID string `json:"department_id"`
	Title        string `json:"title"` // job title (M5), "" for none
}

// UserList answers a directory search.
type UserList struct {
	Users []UserSummary `json:"users"`
}

// CreateDepartmentRequest adds a department under ParentID (the root if
// empty).
type CreateDepartmentRequest struct {
	Name     string `json:"name"`
	ParentID string `json:"parent_id,omitempty"`
}

// Department is a node of the department tree.
type Department struct {
	DepartmentID string `json:"department_id"`
	ParentID     string `json:"parent_id,omitempty"`
	Name         string `json:"name"`
}

// DepartmentList lists the tree, parents before children.
type DepartmentList struct {
	Departments []Department `json:"departments"`
}

// CreateConversationRequest creates a direct conversation (one other member)
// or a group.
type CreateConversationRequest struct {
	Type      string   `json:"type"`
	MemberIDs []string `json:"member_ids"`
	Title     string   `json:"title,omitempty"`
}

// ConversationIDResponse answers conversation creation.
type ConversationIDResponse struct {
	ConversationID string `json:"conversation_id"`
}

// Conversation is one entry of the caller's conversation list.
type Conversation struct {
	ConversationID string   `json:"conversation_id"`
	Type           string   `json:"type"`
	Title          string   `json:"title"`
	MemberIDs      []string `json:"member_ids"`
	LastSeq        int64    `json:"last_seq"`
	// ReadOnly: department isolation (Z7) no longer lets every pair of
	// members talk; history stays readable, sending is refused.
	ReadOnly bool `json:"read_only"`
}

// ConversationList answers GET /conversations.
type ConversationList struct {
	Conversations []Conversation `json:"conversations"`
}

// SendRequest sends a message; ClientMsgID makes retries idempotent.
type SendRequest struct {
	ClientMsgID string `json:"client_msg_id"`
	Body        string `json:"body"`
}

// SendResponse is the stored message's identity.
type SendResponse struct {
	MessageID string    `json:"message_id"`
	Seq       int64     `json:"seq"`
	SentAt    time.Time `json:"sent_at"`
}

// Message is a message in history.
type Message struct {
	MessageID string    `json:"message_id"`
	Seq       int64     `json:"seq"`
	SenderID  string    `json:"sender_id"`
	Body      string    `json:"body"`
	SentAt    time.Time `json:"sent_at"`
	// Recalled marks a recalled message (Z3): its body is empty for
	// everyone.
	Recalled bool `json:"recalled,omitempty"`
}

// MessageList answers a history query, ordered by seq.
type MessageList struct {
	Messages []Message `json:"messages"`
}

// ReadRequest moves the caller's read marker (REST form of the read frame).
type ReadRequest struct {
	Seq int64 `json:"seq"`
}

// ReadMarker is one member's read position.
type ReadMarker struct {
	UserID string `json:"user_id"`
	Seq    int64  `json:"seq"`
}

// ReadMarkerList answers GET .../read.
type ReadMarkerList struct {
	ReadMarkers []ReadMarker `json:"read_markers"`
}

// Session is one of the caller's sessions.
type Session struct {
	SessionID    string    `json:"session_id"`
	Current      bool      `json:"current"`
	CreatedAt    time.Time `json:"created_at"`
	LastActiveAt time.Time `json:"last_active_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	SourceIP     string    `json:"source_ip"`
	UserAgent    string    `json:"user_agent"`
}

// SessionList answers GET /sessions.
type SessionList struct {
	Sessions []Session `json:"sessions"`
}

// AuditRecord is one audit entry as an auditor sees it.
type AuditRecord struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	ActorID   string    `json:"actor_id,omitempty"`
	ActorName string    `json:"actor_name,omitempty"`
	Action    string    `json:"action"`
	Target    string    `json:"target,omitempty"`
	SourceIP  string    `json:"source_ip,omitempty"`
	Result    string    `json:"result"`
	Reason    string    `json:"reason,omitempty"`
	PrevHash  string    `json:"prev_hash"`
	Hash      string    `json:"hash"`
}

// AuditList answers GET /audit.
type AuditList struct {
	Records []AuditRecord `json:"records"`
}

// StepUpRequest proves a fresh second factor for sensitive operations (A6).
// Method is "totp" or "recovery_code" (Code), or "password" (Password) for
// a user who has no second factor.
type StepUpRequest struct {
	Method   string `json:"method"`
	Code     string `json:"code,omitempty"`
	Password string `json:"password,omitempty"`
}

// MFAPolicy is the MFA roll-out policy (A2): MFA for everyone, or by
// department subtree with an optional grace period.
type MFAPolicy struct {
	RequireAll  bool                `json:"require_all"`
	Departments []DepartmentMFARule `json:"departments"`
}

// DepartmentMFARule requires MFA in a department and its sub-departments
// from GraceUntil on (at once if absent).
type DepartmentMFARule struct {
	DepartmentID string     `json:"department_id"`
	GraceUntil   *time.Time `json:"grace_until,omitempty"`
}
