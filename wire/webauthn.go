package wire

import (
	"encoding/json"
	"time"
)

// Passkeys (WebAuthn, A1). The WebAuthn documents themselves — the options
// a browser passes to navigator.credentials.create/get and the
// PublicKeyCredential it returns — are W3C JSON (camelCase, base64url) and
// travel through unchanged as json.RawMessage: the server's WebAuthn
// library parses and verifies them, and this package owns (and strictly
// decodes, I2) only the envelope around them. The whole body is still
// bounded by MaxBodyBytes.

// WebAuthnOptions answers every begin operation: Options is
// {"publicKey": PublicKeyCredentialCreationOptionsJSON or
// PublicKeyCredentialRequestOptionsJSON}.
type WebAuthnOptions struct {
	Options json.RawMessage `json:"options"`
}

// WebAuthnRegisterFinishRequest completes adding a passkey. Credential is
// the PublicKeyCredential from navigator.credentials.create, as JSON; Name
// labels the passkey in lists ("Passkey" if empty).
type WebAuthnRegisterFinishRequest struct {
	Name       string          `json:"name,omitempty"`
	Credential json.RawMessage `json:"credential"`
}

// WebAuthnRegisterFinishResponse is the new passkey and the session that
// replaces the caller's (an MFA change ends every session, A5).
type WebAuthnRegisterFinishResponse struct {
	Passkey   WebAuthnCredential `json:"passkey"`
	Token     string             `json:"token"`
	ExpiresAt time.Time          `json:"expires_at"`
}

// WebAuthnLoginBeginRequest asks for assertion options for a login that
// passed the password (the mfa_token of POST /auth/login).
type WebAuthnLoginBeginRequest struct {
	MFAToken string `json:"mfa_token"`
}

// WebAuthnLoginFinishRequest completes that login with the
// PublicKeyCredential from navigator.credentials.get, as JSON. The answer
// is a TokenResponse.
type WebAuthnLoginFinishRequest struct {
	MFAToken   string          `json:"mfa_token"`
	Credential json.RawMessage `json:"credential"`
}

// WebAuthnStepUpFinishRequest completes a passkey step-up (A6). The answer
// is a TokenResponse: the replacement session.
type WebAuthnStepUpFinishRequest struct {
	Credential json.RawMessage `json:"credential"`
}

// WebAuthnCredential describes one of the caller's passkeys; its key never
// leaves the server. PasskeyID is the handle for deleting it, not the
// authenticator's credential ID.
type WebAuthnCredential struct {
	PasskeyID      string     `json:"passkey_id"`
	Name           string     `json:"name"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at,omitempty"`
	AAGUID         string     `json:"aaguid"` // authenticator model, UUID form; all zero if undisclosed
	Transports     []string   `json:"transports"`
	BackupEligible bool       `json:"backup_eligible"` // a synced passkey, as opposed to a device-bound key
	BackupState    bool       `json:"backup_state"`
	UserVerified   bool       `json:"user_verified"` // the authenticator verified its user (PIN, biometrics) at registration
}

// WebAuthnCredentialList answers GET /auth/webauthn/credentials.
type WebAuthnCredentialList struct {
	Credentials []WebAuthnCredential `json:"credentials"`
}
