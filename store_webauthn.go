package parley

import (
	"context"
	"encoding/json"
	"time"
)

// WebAuthnCredential is a registered passkey or security key (A1): a
// cryptographic second factor (A10). The server keeps the public half only.
//
// PublicKeySealed is the credential's COSE public key sealed under a keyring
// key with the user and credential ID as additional data (crypt.SealSecret).
// A public key is not secret, but a credential row written or moved behind
// the server's back (straight into the database) must not let anyone sign
// in: without the key-encryption key, a forged row does not open (A7, D7).
type WebAuthnCredential struct {
	ID           string // opaque handle for listing and deleting ("wa_…"); not the credential ID
	UserID       UserID
	CredentialID []byte // the authenticator's credential ID (raw bytes, ≤1023)
	// PublicKeySealed: see the type's comment.
	PublicKeySealed   []byte
	AttestationType   string // e.g. "self", "none", "basic_full"
	AttestationFormat string // e.g. "packed", "none"; fido-u2f changes assertion checks
	// SignCount is the authenticator's signature counter as last seen. A
	// counter that does not advance (when either side is non-zero) is the
	// sign of a cloned authenticator and the assertion is refused.
	SignCount  uint32
	AAGUID     []byte   // authenticator model; may be all zero
	Transports []string // hints for the client: usb, nfc, ble, internal, hybrid, smart-card
	// The flags of WebAuthn §6.1: BackupEligible never changes for a
	// credential; BackupState may (synced passkeys); UserVerified records
	// that the authenticator verified its user at registration
	// (uvInitialized).
	BackupEligible bool
	BackupState    bool
	UserVerified   bool
	Name           string // chosen by the user, for the list
	CreatedAt      time.Time
	LastUsedAt     time.Time // zero until first used
}

// WebAuthnPurpose says what a ceremony is for. A challenge issued for one
// purpose is never accepted for another: a login challenge cannot finish a
// registration or a step-up (A1, A6).
type WebAuthnPurpose string

const (
	WebAuthnRegistration WebAuthnPurpose = "registration"
	WebAuthnLogin        WebAuthnPurpose = "login"
	WebAuthnStepUp       WebAuthnPurpose = "step_up"
)

// WebAuthnCeremony is the server-side half of one begun ceremony: the
// challenge and the options it was issued with. It lives in the database so
// that begin and finish may reach different nodes (M7), is bound to the
// session that began it, its user and its purpose, expires after five
// minutes, and is taken (deleted) by the first finish whatever its outcome,
// so a challenge is answered at most once (replay protection).
type WebAuthnCeremony struct {
	SessionID string // the pending login or the signed-in session that began it
	Purpose   WebAuthnPurpose
	UserID    UserID
	Data      []byte // the ceremony library's session data, opaque to the store
	CreatedAt time.Time
	ExpiresAt time.Time
}

// WebAuthnStore persists passkeys and their ceremonies (identity issue).
// sqldb implements it; its schema is sqldb/migrations/*/0003_webauthn.sql.
type WebAuthnStore interface {
	// CreateWebAuthnCredential stores a new credential. A credential ID
	// that is already registered (to anyone) is CodeConflict; an unknown
	// user CodeNotFound.
	CreateWebAuthnCredential(ctx context.Context, c *WebAuthnCredential) error
	// ListWebAuthnCredentials returns the user's credentials, oldest first.
	ListWebAuthnCredentials(ctx context.Context, user UserID) ([]*WebAuthnCredential, error)
	// WebAuthnCredentialByCredentialID finds a credential by the
	// authenticator's credential ID; CodeNotFound if none.
	WebAuthnCredentialByCredentialID(ctx context.Context, credentialID []byte) (*WebAuthnCredential, error)
	// CountWebAuthnCredentials counts the user's credentials.
	CountWebAuthnCredentials(ctx context.Context, user UserID) (int, error)
	// UseWebAuthnCredential records a successful assertion: the new sign
	// counter, backup state and time of use. It changes the row only if
	// the counter advances (or both old and new are zero, for
	// authenticators without a counter), in one statement, so that two
	// nodes accepting the same counter value concurrently cannot both
	// succeed; advanced is false otherwise, and for a deleted credential.
	UseWebAuthnCredential(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) (advanced bool, err error)
	// DeleteWebAuthnCredential deletes the user's credential with handle
	// id; another user's handle is CodeNotFound. With keepLast it refuses
	// (CodeConflict), atomically, to delete the user's only credential.
	DeleteWebAuthnCredential(ctx context.Context, user UserID, id string, keepLast bool) error
	// PutWebAuthnCeremony stores c, replacing a ceremony of the same
	// session and purpose, and drops ceremonies expired by c.CreatedAt. An
	// unknown session is CodeNotFound.
	PutWebAuthnCeremony(ctx context.Context, c *WebAuthnCeremony) error
	// TakeWebAuthnCeremony deletes and returns the session's ceremony of
	// purpose in one statement (at most one caller gets it); CodeNotFound if
	// there is none. Expiry is the caller's to check, with its clock.
	TakeWebAuthnCeremony(ctx context.Context, sessionID string, purpose WebAuthnPurpose) (*WebAuthnCeremony, error)
}

// WebAuthnRegistered is the result of a registered passkey: the new
// credential and the session that replaces the caller's (an MFA change ends
// every session of the user, A5).
type WebAuthnRegistered struct {
	Credential *WebAuthnCredential
	Issued     *Issued
}

// WebAuthnService is passkeys as the transport sees it (A1). Options are the
// WebAuthn JSON the client hands to navigator.credentials.create/get
// ({"publicKey": …}); credential is the client's PublicKeyCredential JSON,
// passed through unparsed by the transport.
type WebAuthnService interface {
	// BeginRegistration starts adding a passkey to the caller's account.
	// It needs step-up (A6) unless the caller has no second factor yet
	// (first enrolment, allowed under the enrolment gate, A2).
	BeginRegistration(ctx context.Context, a *Actor, m RequestMeta) (options json.RawMessage, err error)
	// FinishRegistration verifies the attestation, stores the credential
	// under name and replaces the caller's session.
	FinishRegistration(ctx context.Context, a *Actor, name string, credential json.RawMessage, m RequestMeta) (*WebAuthnRegistered, error)
	// BeginLogin answers a pending login (mfa_token) with assertion
	// options for that user's passkeys.
	BeginLogin(ctx context.Context, mfaToken string, m RequestMeta) (options json.RawMessage, err error)
	// FinishLogin verifies the assertion and completes the login (A9: a
	// failure answers like any other failed second factor).
	FinishLogin(ctx context.Context, mfaToken string, credential json.RawMessage, m RequestMeta) (*Issued, error)
	// BeginStepUp and FinishStepUp prove a fresh passkey use for sensitive
	// operations (A6); success replaces the session.
	BeginStepUp(ctx context.Context, a *Actor, m RequestMeta) (options json.RawMessage, err error)
	FinishStepUp(ctx context.Context, a *Actor, credential json.RawMessage, m RequestMeta) (*Issued, error)
	// Credentials lists the caller's passkeys.
	Credentials(ctx context.Context, a *Actor) ([]*WebAuthnCredential, error)
	// DeleteCredential removes one of the caller's passkeys (an MFA change:
	// step-up, and the caller's other sessions end).
	DeleteCredential(ctx context.Context, a *Actor, id string, m RequestMeta) error
}
