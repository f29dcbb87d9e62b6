package client

import (
	"context"
	"net/http"
	"time"

	"github.com/parleyhq/parley/wire"
)

// Account lifecycle (Z8, Z11): system admins, with a recent step-up.

// userPath returns "/users/{id}" + suffix with id escaped.
func userPath(userID, suffix string) (string, error) {
	p, err := escapeID(userID)
	if err != nil {
		return "", err
	}
	return "/users/" + p + suffix, nil
}

// Offboard disables a leaver's account at once and removes what it holds:
// sessions (WebSockets close), API tokens, roles beyond "user", passkeys and
// other second factors, conversation memberships (history stays).
func (c *Client) Offboard(ctx context.Context, userID string, req wire.OffboardRequest) (*wire.OffboardResponse, error) {
	p, err := userPath(userID, "/offboard")
	if err != nil {
		return nil, err
	}
	var out wire.OffboardResponse
	if err := c.do(ctx, call{method: http.MethodPost, path: p, in: req, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Reactivate makes a disabled account active again with a new password
// that its owner must change at the next login.
func (c *Client) Reactivate(ctx context.Context, userID string, req wire.ReactivateRequest) (*wire.Account, error) {
	return c.account(ctx, http.MethodPost, userID, "/reactivate", req)
}

// Account returns an account's kind, status, end date and last login.
func (c *Client) Account(ctx context.Context, userID string) (*wire.Account, error) {
	return c.account(ctx, http.MethodGet, userID, "/account", nil)
}

// SetEndDate sets the date on which the account expires; nil clears it.
func (c *Client) SetEndDate(ctx context.Context, userID string, end *time.Time) (*wire.Account, error) {
	return c.account(ctx, http.MethodPut, userID, "/end-date", wire.EndDateRequest{EndDate: end})
}

func (c *Client) account(ctx context.Context, method, userID, suffix string, in any) (*wire.Account, error) {
	p, err := userPath(userID, suffix)
	if err != nil {
		return nil, err
	}
	var out wire.Account
	if err := c.do(ctx, call{method: method, path: p, in: in, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateServiceToken issues an API token for a service account. The token
// in the answer is shown once; use it with WithToken or SetToken.
func (c *Client) CreateServiceToken(ctx context.Context, userID string, req wire.CreateServiceTokenRequest) (*wire.ServiceTokenCreated, error) {
	p, err := userPath(userID, "/tokens")
	if err != nil {
		return nil, err
	}
	var out wire.ServiceTokenCreated
	if err := c.do(ctx, call{method: http.MethodPost, path: p, in: req, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ServiceTokens lists a service account's tokens, without their secrets.
func (c *Client) ServiceTokens(ctx context.Context, userID string) ([]wire.ServiceToken, error) {
	p, err := userPath(userID, "/tokens")
	if err != nil {
		return nil, err
	}
	var out wire.ServiceTokenList
	if err := c.do(ctx, call{method: http.MethodGet, path: p, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return out.Tokens, nil
}

// RevokeServiceToken revokes one token; connections using it close.
func (c *Client) RevokeServiceToken(ctx context.Context, userID, tokenID string) error {
	t, err := escapeID(tokenID)
	if err != nil {
		return err
	}
	p, err := userPath(userID, "/tokens/"+t)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: p, auth: true})
}
