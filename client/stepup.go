package client

import (
	"context"
	"errors"
	"net/http"

	"github.com/parleyhq/parley/wire"
)

// StepUp confirms a fresh second factor for sensitive operations (method
// "totp" or "recovery_code" with code, or "password" with password for an
// account without a second factor). The server replaces the session; the
// client keeps the new token. Retry the refused operation afterwards.
func (c *Client) StepUp(ctx context.Context, method, code, password string) (*wire.TokenResponse, error) {
	var out wire.TokenResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/step-up", auth: true,
		in: wire.StepUpRequest{Method: method, Code: code, Password: password}, out: &out})
	if err != nil {
		return nil, err
	}
	if out.Token == "" {
		return nil, errors.New("client: step-up answer has no token")
	}
	c.SetToken(out.Token)
	return &out, nil
}

// MFAPolicy returns the MFA roll-out policy (security admins).
func (c *Client) MFAPolicy(ctx context.Context) (*wire.MFAPolicy, error) {
	var out wire.MFAPolicy
	err := c.do(ctx, call{method: http.MethodGet, path: "/policy/mfa", auth: true, out: &out})
	return &out, err
}

// SetMFAPolicy replaces the MFA roll-out policy (security admins, step-up).
func (c *Client) SetMFAPolicy(ctx context.Context, p wire.MFAPolicy) (*wire.MFAPolicy, error) {
	var out wire.MFAPolicy
	err := c.do(ctx, call{method: http.MethodPut, path: "/policy/mfa", auth: true, in: p, out: &out})
	return &out, err
}
