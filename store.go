package parley

import (
	"context"
	"time"
)

// Store is everything the services persist. sqldb implements it on SQLite and
// PostgreSQL with the same queries. Methods return *Error with CodeNotFound
// for a missing row and CodeConflict for a uniqueness violation; anything
// else is an internal error.
type Store interface {
	UserStore
	DepartmentStore
	DepartmentEditor
	SessionStore
	ConversationStore
	MessageStore
	AuditStore
	SettingStore
	PasswordStore
	WebAuthnStore
	OTPStore
	SupervisionStore
	RoleStore
	GrantRequestStore
	LifecycleStore
	// Ping reports whether the database answers (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// UserStore keeps accounts, their roles and their MFA state.
type UserStore interface {
	// CreateUser inserts u with its roles. Usernames are unique, compared
	// case-insensitively: a clash is CodeConflict.
	CreateUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, id UserID) (*User, error)
	// UserByUsername looks the name up case-insensitively.
	UserByUsername(ctx context.Context, username string) (*User, error)
	// ListUsers returns up to limit users whose username or display name
	// contains query (all users for an empty query), ordered by username.
	ListUsers(ctx context.Context, query string, limit int) ([]*User, error)
	// ListUsersInDepartment is ListUsers limited to the users of dept and
	// of its sub-departments.
	ListUsersInDepartment(ctx context.Context, dept DepartmentID, query string, limit int) ([]*User, error)
	// UpdateUserProfile sets the fields of upd that are not nil, in one
	// statement: CodeNotFound for an unknown user or department.
	UpdateUserProfile(ctx context.Context, id UserID, upd UserUpdate) error
	CountUsers(ctx context.Context) (int, error)
	// AnyUserWithRole reports whether any active user holds role.
	AnyUserWithRole(ctx context.Context, role Role) (bool, error)
	SetPasswordHash(ctx context.Context, id UserID, hash string, changedAt time.Time) error
	// SetTOTP stores a sealed TOTP secret and whether it is confirmed;
	// a nil secret removes TOTP.
	SetTOTP(ctx context.Context, id UserID, sealed []byte, enrolled bool) error
	// AdvanceTOTPStep records step as used if it is greater than the last
	// one, atomically. It returns false if step was already used (replay).
	AdvanceTOTPStep(ctx context.Context, id UserID, step int64) (bool, error)
	// ReplaceRecoveryCodes discards the user's recovery codes and stores
	// the given hashes.
	ReplaceRecoveryCodes(ctx context.Context, id UserID, hashes [][]byte) error
	// ConsumeRecoveryCode deletes the code with this hash; CodeNotFound if
	// the user has no such unused code.
	ConsumeRecoveryCode(ctx context.Context, id UserID, hash []byte) error
}

// DepartmentStore keeps the organisation tree.
type DepartmentStore interface {
	CreateDepartment(ctx context.Context, d *Department) error
	DepartmentByID(ctx context.Context, id DepartmentID) (*Department, error)
	ListDepartments(ctx context.Context) ([]*Department, error)
}

// SessionStore keeps server-side sessions, keyed by the hash of their token.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	SessionByTokenHash(ctx context.Context, hash []byte) (*Session, error)
	// TouchSession sets LastActiveAt (user activity; A5 idle timeout).
	TouchSession(ctx context.Context, id string, at time.Time) error
	// IncrementSessionAttempts adds one failed second-factor attempt and
	// returns the new count.
	IncrementSessionAttempts(ctx context.Context, id string) (int, error)
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions deletes every session of the user except exceptID
	// (which may be empty) and returns the IDs deleted.
	DeleteUserSessions(ctx context.Context, user UserID, exceptID string) ([]string, error)
	ListUserSessions(ctx context.Context, user UserID) ([]*Session, error)
	// DeleteExpiredSessions removes sessions whose absolute expiry is
	// before now, or that were last active before idleBefore.
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error)
}

// ConversationStore keeps conversations, members, data keys and read markers.
type ConversationStore interface {
	// CreateConversation inserts c, its members and its first data key in
	// one transaction. A second direct conversation with the same DirectKey
	// is CodeConflict.
	CreateConversation(ctx context.Context, c *Conversation, key *ConversationKey) error
	ConversationByID(ctx context.Context, id ConversationID) (*Conversation, error)
	// DirectConversation finds the direct conversation with this DirectKey.
	DirectConversation(ctx context.Context, directKey string) (*Conversation, error)
	// ConversationsForUser lists the conversations the user is a member of,
	// most recently active first.
	ConversationsForUser(ctx context.Context, user UserID) ([]*Conversation, error)
	ConversationKey(ctx context.Context, id ConversationID, epoch int) (*ConversationKey, error)
	// SetReadMarker raises the user's read marker to seq; it never lowers it.
	SetReadMarker(ctx context.Context, id ConversationID, user UserID, seq int64) error
	ReadMarkers(ctx context.Context, id ConversationID) (map[UserID]int64, error)
}

// PendingMessage is one message handed to AppendMessages. The caller fills
// Msg.ID, Msg.ConversationID, Msg.SenderID, Msg.ClientMsgID, Msg.SentAt and
// Body; the store fills the rest.
type PendingMessage struct {
	Msg  Message
	Body []byte // plaintext, passed to the SealFunc, never stored
	// Set by the store:
	Duplicate bool  // a message with this (conversation, sender, client_msg_id) existed; Msg is that message
	Err       error // this message failed (e.g. its conversation is gone); the others may still commit
}

// SealFunc seals body into m.Sealed and sets m.KeyEpoch. The store calls it
// after assigning m.Seq, inside the transaction, because the AAD binds the
// ciphertext to its sequence number.
type SealFunc func(m *Message, body []byte) error

// MessageStore persists messages. AppendMessages is the group commit: one
// transaction for the whole batch, sequence numbers assigned per
// conversation without gaps, idempotent on (conversation, sender,
// client_msg_id). When it returns nil every non-duplicate message without
// Err is durable.
type MessageStore interface {
	AppendMessages(ctx context.Context, batch []*PendingMessage, seal SealFunc) error
	// MessagesAfter returns up to limit messages with seq > afterSeq in
	// ascending order, sealed (Body nil).
	MessagesAfter(ctx context.Context, id ConversationID, afterSeq int64, limit int) ([]*Message, error)
	// MessagesBefore returns up to limit messages with seq < beforeSeq,
	// in ascending order (the newest page below the cursor).
	MessagesBefore(ctx context.Context, id ConversationID, beforeSeq int64, limit int) ([]*Message, error)
}

// AuditLink computes rec.Hash from the previous record (nil for the first)
// and rec, and sets rec.PrevHash.
type AuditLink func(prev *AuditRecord, rec *AuditRecord) error

// AuditStore is the append-only audit table. There is no update or delete.
type AuditStore interface {
	// AppendAudit assigns rec.Seq, calls link with the current last record
	// while holding the chain's lock (so that concurrent appends, also from
	// other nodes, form one chain), and inserts rec.
	AppendAudit(ctx context.Context, rec *AuditRecord, link AuditLink) error
	// ListAudit returns up to limit records with Seq > afterSeq, ascending.
	ListAudit(ctx context.Context, afterSeq int64, limit int) ([]*AuditRecord, error)
}

// SettingStore keeps small named values (e.g. the setup token's hash).
type SettingStore interface {
	GetSetting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error
	// TakeSetting deletes the setting and returns its value atomically, so
	// that a one-time value is used at most once; CodeNotFound if absent.
	TakeSetting(ctx context.Context, key string) (string, error)
}

// KeyProvider holds key-encryption keys (KEKs) outside the database: a local
// keyring file, later an HSM (D2). Keys never leave it in the clear except as
// the data keys it unwraps.
type KeyProvider interface {
	// Wrap encrypts a data key under the current KEK, binding aad.
	Wrap(ctx context.Context, dek, aad []byte) (kekID string, wrapped []byte, err error)
	// Unwrap decrypts a data key wrapped by Wrap under kekID with aad.
	Unwrap(ctx context.Context, kekID string, wrapped, aad []byte) ([]byte, error)
}

// Event is what the broker carries between the message path and the hubs of
// every node: a frame already encoded once, and who should receive it.
type Event struct {
	ConversationID ConversationID
	Seq            int64    // for message events; 0 otherwise
	Recipients     []UserID // members at the time of the event
	ExceptConn     string   // connection that must not get it (it gets an ack instead)
	Frame          []byte   // pre-encoded JSON WebSocket frame
}

// Broker fans events out to every node (inmem for one node, NATS later).
type Broker interface {
	Publish(ctx context.Context, ev Event) error
	// Subscribe calls fn for every event published on any node, in publish
	// order per conversation; fn must not block. It returns a cancel func.
	Subscribe(fn func(Event)) (cancel func())
	// Ping reports whether the broker is reachable (readiness).
	Ping(ctx context.Context) error
}

// Auditor appends to the audit trail (audit.Recorder). Services record every
// security-relevant event through it (L1); an error means the record was not
// written, and a sensitive operation must then be refused (L5).
type Auditor interface {
	Record(ctx context.Context, rec AuditRecord) error
}

// DepartmentEditor changes the department tree (M5).
type DepartmentEditor interface {
	// UpdateDepartment sets the name and parent of a department.
	UpdateDepartment(ctx context.Context, d *Department) error
	// MergeDepartment moves every member and sub-department of from into
	// into, then deletes from, in one transaction.
	MergeDepartment(ctx context.Context, from, into DepartmentID) error
}
