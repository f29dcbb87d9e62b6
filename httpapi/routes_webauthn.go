package httpapi

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// webauthnRoutes serve passkeys (A1). Registration is PermSelf and open
// under the enrolment gate, because a user held there (an administrator
// without MFA, A2) must be able to enrol a passkey instead of TOTP; the
// service itself demands step-up (A6) once the user has any second factor.
// Login is public like /auth/mfa: the mfa_token is its credential. Removing
// a passkey is PermCredentials, so the router demands step-up as well.
func (a *API) webauthnRoutes() []*route {
	if a.svc.WebAuthn == nil {
		return nil
	}
	const p = "/api/v1/auth/webauthn"
	return []*route{
		{Method: "POST", Path: p + "/register/begin", Perm: authz.PermSelf, PreEnrollment: true,
			Summary: "Start adding a passkey: creation options (step-up needed once the account has a second factor)",
			Request: &wire.Empty{}, Response: &wire.WebAuthnOptions{}, Status: 200, Handle: a.webauthnRegisterBegin},
		{Method: "POST", Path: p + "/register/finish", Perm: authz.PermSelf, PreEnrollment: true,
			Summary: "Finish adding a passkey; ends every session of the user and returns a replacement",
			Request: &wire.WebAuthnRegisterFinishRequest{}, Response: &wire.WebAuthnRegisterFinishResponse{}, Status: 201,
			Handle: a.webauthnRegisterFinish},
		{Method: "POST", Path: p + "/login/begin", Perm: authz.PermPublic,
			Summary: "Assertion options for a login that passed the password (mfa_token)",
			Request: &wire.WebAuthnLoginBeginRequest{}, Response: &wire.WebAuthnOptions{}, Status: 200, Handle: a.webauthnLoginBegin},
		{Method: "POST", Path: p + "/login/finish", Perm: authz.PermPublic,
			Summary: "Complete a login with a passkey assertion",
			Request: &wire.WebAuthnLoginFinishRequest{}, Response: &wire.TokenResponse{}, Status: 200, Handle: a.webauthnLoginFinish},
		{Method: "POST", Path: p + "/step-up/begin", Perm: authz.PermSelf,
			Summary: "Assertion options for a passkey step-up",
			Request: &wire.Empty{}, Response: &wire.WebAuthnOptions{}, Status: 200, Handle: a.webauthnStepUpBegin},
		{Method: "POST", Path: p + "/step-up/finish", Perm: authz.PermSelf,
			Summary: "Confirm a passkey for sensitive operations; replaces the session",
			Request: &wire.WebAuthnStepUpFinishRequest{}, Response: &wire.TokenResponse{}, Status: 200, Handle: a.webauthnStepUpFinish},
		{Method: "GET", Path: p + "/credentials", Perm: authz.PermSelf, Summary: "The caller's passkeys",
			Response: &wire.WebAuthnCredentialList{}, Status: 200, Handle: a.webauthnCredentials},
		{Method: "DELETE", Path: p + "/credentials/{id}", Perm: authz.PermCredentials,
			Summary: "Remove one of the caller's passkeys (step-up; ends the caller's other sessions)",
			Status:  204, Handle: a.webauthnDelete},
	}
}

// credentialJSON checks the part of a body this server does not decode
// itself: it must be a JSON object (the decoder has already checked that
// the whole body is valid JSON within MaxBodyBytes, I2).
func credentialJSON(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, parley.Errorf(parley.CodeInvalid, "field \"credential\" must be a PublicKeyCredential JSON object")
	}
	return raw, nil
}

func writeOptions(c *call, opts json.RawMessage) {
	writeJSON(c.w, http.StatusOK, wire.WebAuthnOptions{Options: opts})
}

func (a *API) webauthnRegisterBegin(c *call) error {
	opts, err := a.svc.WebAuthn.BeginRegistration(c.r.Context(), c.actor, c.meta)
	if err != nil {
		return err
	}
	writeOptions(c, opts)
	return nil
}

func (a *API) webauthnRegisterFinish(c *call) error {
	req := c.body.(*wire.WebAuthnRegisterFinishRequest)
	raw, err := credentialJSON(req.Credential)
	if err != nil {
		return err
	}
	res, err := a.svc.WebAuthn.FinishRegistration(c.r.Context(), c.actor, req.Name, raw, c.meta)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusCreated, wire.WebAuthnRegisterFinishResponse{Passkey: wireWebAuthnCredential(res.Credential),
		Token: res.Issued.Token, ExpiresAt: res.Issued.ExpiresAt})
	return nil
}

func (a *API) webauthnLoginBegin(c *call) error {
	req := c.body.(*wire.WebAuthnLoginBeginRequest)
	opts, err := a.svc.WebAuthn.BeginLogin(c.r.Context(), req.MFAToken, c.meta)
	if err != nil {
		return err
	}
	writeOptions(c, opts)
	return nil
}

func (a *API) webauthnLoginFinish(c *call) error {
	req := c.body.(*wire.WebAuthnLoginFinishRequest)
	raw, err := credentialJSON(req.Credential)
	if err != nil {
		return err
	}
	iss, err := a.svc.WebAuthn.FinishLogin(c.r.Context(), req.MFAToken, raw, c.meta)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.TokenResponse{Token: iss.Token, ExpiresAt: iss.ExpiresAt})
	return nil
}

func (a *API) webauthnStepUpBegin(c *call) error {
	opts, err := a.svc.WebAuthn.BeginStepUp(c.r.Context(), c.actor, c.meta)
	if err != nil {
		return err
	}
	writeOptions(c, opts)
	return nil
}

func (a *API) webauthnStepUpFinish(c *call) error {
	req := c.body.(*wire.WebAuthnStepUpFinishRequest)
	raw, err := credentialJSON(req.Credential)
	if err != nil {
		return err
	}
	iss, err := a.svc.WebAuthn.FinishStepUp(c.r.Context(), c.actor, raw, c.meta)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.TokenResponse{Token: iss.Token, ExpiresAt: iss.ExpiresAt})
	return nil
}

func (a *API) webauthnCredentials(c *call) error {
	list, err := a.svc.WebAuthn.Credentials(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	out := wire.WebAuthnCredentialList{Credentials: make([]wire.WebAuthnCredential, len(list))}
	for i, cred := range list {
		out.Credentials[i] = wireWebAuthnCredential(cred)
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (a *API) webauthnDelete(c *call) error {
	if err := a.svc.WebAuthn.DeleteCredential(c.r.Context(), c.actor, c.r.PathValue("id"), c.meta); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func wireWebAuthnCredential(c *parley.WebAuthnCredential) wire.WebAuthnCredential {
	out := wire.WebAuthnCredential{PasskeyID: c.ID, Name: c.Name, CreatedAt: c.CreatedAt, AAGUID: formatAAGUID(c.AAGUID),
		Transports: c.Transports, BackupEligible: c.BackupEligible, BackupState: c.BackupState, UserVerified: c.UserVerified}
	if out.Transports == nil {
		out.Transports = []string{}
	}
	if !c.LastUsedAt.IsZero() {
		t := c.LastUsedAt
		out.LastUsedAt = &t
	}
	return out
}

// formatAAGUID renders a 16-byte AAGUID in UUID form; anything else (absent
// or malformed) as the all-zero UUID, which means "model not disclosed".
func formatAAGUID(b []byte) string {
	if len(b) != 16 {
		b = make([]byte, 16)
	}
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
