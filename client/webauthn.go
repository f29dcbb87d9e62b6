package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/parleyhq/parley/wire"
)

// Passkeys (WebAuthn, A1). The SDK does not play the authenticator: each
// Begin call returns the WebAuthn options JSON ({"publicKey": …}) to hand
// to an authenticator (a browser's navigator.credentials, a platform API or
// a software authenticator in tests), and each Finish call sends back the
// PublicKeyCredential JSON it produced, unchanged. The SDK imports no
// WebAuthn library, so it links no server code.

// BeginPasskeyRegistration starts adding a passkey and returns creation
// options. An account that already has a second factor must step up first
// (step_up_required); the first factor of an account held at the enrolment
// gate needs none.
func (c *Client) BeginPasskeyRegistration(ctx context.Context) (json.RawMessage, error) {
	return c.webauthnOptions(ctx, "/auth/webauthn/register/begin", wire.Empty{}, true)
}

// FinishPasskeyRegistration sends the new credential (named name, "Passkey"
// if empty). The server ends every session of the user and returns a
// replacement, which the client keeps (A5).
func (c *Client) FinishPasskeyRegistration(ctx context.Context, name string, credential json.RawMessage) (*wire.WebAuthnRegisterFinishResponse, error) {
	if len(credential) == 0 {
		return nil, errors.New("client: empty passkey credential")
	}
	var out wire.WebAuthnRegisterFinishResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/webauthn/register/finish", auth: true,
		in: wire.WebAuthnRegisterFinishRequest{Name: name, Credential: credential}, out: &out})
	if err != nil {
		return nil, err
	}
	if out.Token == "" {
		return nil, errors.New("client: passkey registration answer has no token")
	}
	c.SetToken(out.Token)
	return &out, nil
}

// BeginPasskeyLogin returns assertion options for a login that answered
// MFARequired (mfaToken from Login).
func (c *Client) BeginPasskeyLogin(ctx context.Context, mfaToken string) (json.RawMessage, error) {
	return c.webauthnOptions(ctx, "/auth/webauthn/login/begin", wire.WebAuthnLoginBeginRequest{MFAToken: mfaToken}, false)
}

// FinishPasskeyLogin completes the login with the assertion and keeps the
// session token.
func (c *Client) FinishPasskeyLogin(ctx context.Context, mfaToken string, credential json.RawMessage) (*wire.TokenResponse, error) {
	if len(credential) == 0 {
		return nil, errors.New("client: empty passkey assertion")
	}
	return c.webauthnToken(ctx, call{method: http.MethodPost, path: "/auth/webauthn/login/finish",
		in: wire.WebAuthnLoginFinishRequest{MFAToken: mfaToken, Credential: credential}})
}

// BeginPasskeyStepUp returns assertion options for a step-up (A6).
func (c *Client) BeginPasskeyStepUp(ctx context.Context) (json.RawMessage, error) {
	return c.webauthnOptions(ctx, "/auth/webauthn/step-up/begin", wire.Empty{}, true)
}

// FinishPasskeyStepUp sends the assertion; the server replaces the session
// and the client keeps the new token. Retry the refused operation
// afterwards.
func (c *Client) FinishPasskeyStepUp(ctx context.Context, credential json.RawMessage) (*wire.TokenResponse, error) {
	if len(credential) == 0 {
		return nil, errors.New("client: empty passkey assertion")
	}
	return c.webauthnToken(ctx, call{method: http.MethodPost, path: "/auth/webauthn/step-up/finish", auth: true,
		in: wire.WebAuthnStepUpFinishRequest{Credential: credential}})
}

// Passkeys lists the caller's passkeys.
func (c *Client) Passkeys(ctx context.Context) ([]wire.WebAuthnCredential, error) {
	var out wire.WebAuthnCredentialList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/auth/webauthn/credentials", auth: true, out: &out}); err != nil {
		return nil, err
	}
	return out.Credentials, nil
}

// DeletePasskey removes one of the caller's passkeys by its passkey_id
// (step-up; the caller's other sessions end).
func (c *Client) DeletePasskey(ctx context.Context, id string) error {
	p, err := escapeID(id)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: "/auth/webauthn/credentials/" + p, auth: true})
}

func (c *Client) webauthnOptions(ctx context.Context, path string, in any, auth bool) (json.RawMessage, error) {
	var out wire.WebAuthnOptions
	if err := c.do(ctx, call{method: http.MethodPost, path: path, auth: auth, in: in, out: &out}); err != nil {
		return nil, err
	}
	if len(out.Options) == 0 {
		return nil, errors.New("client: WebAuthn answer has no options")
	}
	return out.Options, nil
}

func (c *Client) webauthnToken(ctx context.Context, r call) (*wire.TokenResponse, error) {
	var out wire.TokenResponse
	r.out = &out
	if err := c.do(ctx, r); err != nil {
		return nil, err
	}
	if out.Token == "" {
		return nil, errors.New("client: WebAuthn answer has no token")
	}
	c.SetToken(out.Token)
	return &out, nil
}
