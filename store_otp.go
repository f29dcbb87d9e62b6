package parley

import (
	"context"
	"time"
)

// One-time codes by e-mail or SMS, and push approval on a signed-in device
// (A1). The codes are delivered through a Notifier, so that the provider
// (SMTP, a dev file sink, later an SMS gateway) is pluggable and nothing is
// sent anywhere unless an operator configured it (P3).

// Notification channels.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Notification is one message to a person: an e-mail (To is an address,
// Subject is used) or an SMS (To is an E.164 number, Subject is ignored).
// Body may hold a one-time code: providers must never log it.
type Notification struct {
	Channel string
	To      string
	Subject string
	Body    string
}

// Notifier delivers notifications (package notify). Send returns once the
// provider accepted the message; Supports says which channels it can reach.
type Notifier interface {
	Send(ctx context.Context, n Notification) error
	Supports(channel string) bool
}

// OTPPurpose says what a one-time code may be used for; a code sent for one
// purpose never serves another.
type OTPPurpose string

const (
	OTPLogin   OTPPurpose = "login"   // second factor of a pending login
	OTPStepUp  OTPPurpose = "step_up" // fresh factor of an existing session (A6)
	OTPContact OTPPurpose = "contact" // proves that a new address reaches the user
)

// OTPChallenge is one code sent to a user. The store keeps only CodeMAC, a
// keyed MAC of the code bound to the challenge's ID, user, purpose, channel
// and binding (A7): six digits hashed without a secret key would fall to an
// offline search in a millisecond.
type OTPChallenge struct {
	ID      string
	UserID  UserID
	Purpose OTPPurpose
	Channel string
	// Binding ties the code to what it unlocks: the pending login's or the
	// stepping-up session's ID; for address verification the user's own ID.
	Binding string
	// Payload is what the code confirms, for address verification the new
	// address sealed (D2); the MAC covers it. Nil otherwise.
	Payload   []byte
	CodeMAC   []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	Attempts  int       // wrong codes tried against this challenge
	UsedAt    time.Time // zero until the code is used (single use)
}

// Contact is an address at which a user receives one-time codes. The
// address is personal data and is stored sealed (D2, AAD bound to the user
// and channel). A contact is stored only once verified: by a code sent to
// it coming back, or by an administrator setting it; until then the new
// address waits in its verification challenge and the old one keeps
// working. Verified is kept for addresses imported unverified later.
type Contact struct {
	UserID        UserID
	Channel       string
	AddressSealed []byte
	Verified      bool
	UpdatedAt     time.Time
}

// PushStatus is the state of a push approval request.
type PushStatus string

const (
	PushPending  PushStatus = "pending"
	PushApproved PushStatus = "approved"
	PushDenied   PushStatus = "denied"
	PushExpired  PushStatus = "expired"
	PushUsed     PushStatus = "used" // approved, and the login it approved has been issued
)

// PushRequest asks the user's signed-in devices to approve a pending login.
// Number is the two-digit number shown on the new device, which the
// approving device must type back (number matching against MFA fatigue).
type PushRequest struct {
	ID        string
	UserID    UserID
	SessionID string // the pending login
	TokenHash []byte // hash of the pending login's mfa_token, to bind polling
	Number    int
	Status    PushStatus
	SourceIP  string
	Location  string
	UserAgent string
	CreatedAt time.Time
	ExpiresAt time.Time
	DecidedAt time.Time
	DecidedBy string // the session that approved or denied
	Reason    string // why it was denied or expired
}

// OTPStore persists one-time codes, contacts and push requests (identity
// issue). sqldb implements it; its schema is sqldb/migrations/*/0004_otp.sql.
type OTPStore interface {
	// EnsureOTPKey stores sealed as the sealed MAC key of one-time codes
	// unless one exists, and returns the one stored: nodes that start
	// together agree on one key.
	EnsureOTPKey(ctx context.Context, sealed []byte, at time.Time) ([]byte, error)
	// CreateOTPChallenge inserts c after check accepted the creation times
	// of the user's challenges created since since (newest first). The
	// check and the insert are atomic per user, so concurrent sends on any
	// node cannot exceed the resend limits.
	CreateOTPChallenge(ctx context.Context, c *OTPChallenge, since time.Time, check func(recent []time.Time) error) error
	// LatestOTPChallenge returns the newest challenge of the user with this
	// purpose, channel and binding; CodeNotFound if none.
	LatestOTPChallenge(ctx context.Context, user UserID, purpose OTPPurpose, channel, binding string) (*OTPChallenge, error)
	// IncrementOTPAttempts counts one wrong code and returns the new count.
	IncrementOTPAttempts(ctx context.Context, id string) (int, error)
	// ConsumeOTPChallenge marks the challenge used if it is unused and has
	// fewer than maxAttempts failures; CodeNotFound otherwise (a reuse or a
	// concurrent use lost the race).
	ConsumeOTPChallenge(ctx context.Context, id string, at time.Time, maxAttempts int) error
	// DeleteOTPChallenges removes challenges created before before.
	DeleteOTPChallenges(ctx context.Context, before time.Time) (int, error)

	// PutContact inserts or replaces the user's contact on c.Channel.
	PutContact(ctx context.Context, c *Contact) error
	// Contacts lists the user's contacts, ordered by channel.
	Contacts(ctx context.Context, user UserID) ([]*Contact, error)
	// DeleteContact removes the contact; CodeNotFound if there is none.
	DeleteContact(ctx context.Context, user UserID, channel string) error

	CreatePushRequest(ctx context.Context, p *PushRequest) error
	PushRequestByID(ctx context.Context, id string) (*PushRequest, error)
	// CountPushRequests counts the push requests made for a pending login.
	CountPushRequests(ctx context.Context, sessionID string) (int, error)
	// PendingPushRequests lists the user's requests still pending and not
	// expired at now, oldest first.
	PendingPushRequests(ctx context.Context, user UserID, now time.Time) ([]*PushRequest, error)
	// TransitionPushRequest moves the request from one status to another
	// atomically, recording when, by which session and why. It returns
	// false if the request was not in status from (someone else decided
	// first).
	TransitionPushRequest(ctx context.Context, id string, from, to PushStatus, at time.Time, by, reason string) (bool, error)
	// ExpirePushRequests moves every pending request whose expiry is not
	// after now to PushExpired and returns them, so that each expiry is
	// audited once.
	ExpirePushRequests(ctx context.Context, now time.Time) ([]*PushRequest, error)
	// DeletePushRequests removes requests that expired before before.
	DeletePushRequests(ctx context.Context, before time.Time) (int, error)
}

// OTPSent tells where a code went (the address masked) and until when it
// is valid.
type OTPSent struct {
	Channel   string
	SentTo    string // masked: "a***@example.com", "+*******4567"
	ExpiresAt time.Time
}

// ContactInfo is a contact as its owner sees it: the address masked, so a
// stolen session cannot harvest personal data (P2).
type ContactInfo struct {
	Channel  string
	Address  string // masked
	Verified bool
}

// PushBegun is a started push approval: the new device shows Number and
// polls with RequestID.
type PushBegun struct {
	RequestID string
	Number    int
	ExpiresAt time.Time
}

// PushPoll is the state of a push approval as the new device sees it:
// Issued is set once approved; otherwise the request is still pending.
type PushPoll struct {
	Issued *Issued
}

// OTPService is one-time codes and push approval as the transport sees it
// (package auth).
type OTPService interface {
	// SendLoginOTP sends a code for a pending login (mfa_token); it is
	// then used with CompleteMFA, method "email_otp" or "sms_otp".
	SendLoginOTP(ctx context.Context, mfaToken, channel string, m RequestMeta) (*OTPSent, error)
	// SendStepUpOTP and StepUpOTP step the actor's session up with a code.
	SendStepUpOTP(ctx context.Context, a *Actor, channel string, m RequestMeta) (*OTPSent, error)
	StepUpOTP(ctx context.Context, a *Actor, channel, code string, m RequestMeta) (*Issued, error)

	Contacts(ctx context.Context, a *Actor) ([]ContactInfo, error)
	// SetContact sends a code to a new address; ConfirmContact stores the
	// address once that code comes back (until then the old one stays).
	SetContact(ctx context.Context, a *Actor, channel, address string, m RequestMeta) (*OTPSent, error)
	ConfirmContact(ctx context.Context, a *Actor, channel, code string, m RequestMeta) (*ContactInfo, error)
	DeleteContact(ctx context.Context, a *Actor, channel string) error
	// SetUserContact sets a verified address of another user (administrators).
	SetUserContact(ctx context.Context, a *Actor, user UserID, channel, address string) (*ContactInfo, error)

	// BeginPush asks the user's signed-in devices to approve a pending login.
	BeginPush(ctx context.Context, mfaToken string, m RequestMeta) (*PushBegun, error)
	// PollPush reports whether the request was approved, issuing the
	// session once it was; denied or expired requests are errors.
	PollPush(ctx context.Context, mfaToken, requestID string, m RequestMeta) (*PushPoll, error)
	// ApprovePush and DenyPush answer a request from a signed-in device.
	ApprovePush(ctx context.Context, a *Actor, requestID string, number int) error
	DenyPush(ctx context.Context, a *Actor, requestID string) error
	// PendingPush lists the actor's open approval requests, for a device
	// that connected after the push_request frame went out.
	PendingPush(ctx context.Context, a *Actor) ([]*PushRequest, error)
}
