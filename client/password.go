package client

import (
	"context"
	"net/http"

	"github.com/parleyhq/parley/wire"
)

// ChangePassword replaces the caller's password. It needs a recent step-up
// (StepUp), except when the server answered password_change_required (the
// password expired): then the current password is proof enough. Every
// other session of the user ends; this one stays.
func (c *Client) ChangePassword(ctx context.Context, current, next string) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/auth/password", auth: true,
		in: wire.ChangePasswordRequest{CurrentPassword: current, NewPassword: next}})
}

// PasswordPolicy returns the password policy in force (security admins,
// step-up).
func (c *Client) PasswordPolicy(ctx context.Context) (*wire.PasswordPolicy, error) {
	var out wire.PasswordPolicy
	if err := c.do(ctx, call{method: http.MethodGet, path: "/policy/password", auth: true, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetPasswordPolicy sets the password policy: the profile's preset with the
// given fields overriding it (security admins, step-up). It returns the
// policy now in force.
func (c *Client) SetPasswordPolicy(ctx context.Context, p wire.PasswordPolicyUpdate) (*wire.PasswordPolicy, error) {
	var out wire.PasswordPolicy
	if err := c.do(ctx, call{method: http.MethodPut, path: "/policy/password", auth: true, in: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// UnlockUser lifts a user's login lockout (administrators, step-up).
func (c *Client) UnlockUser(ctx context.Context, userID string) error {
	id, err := escapeID(userID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: "/users/" + id + "/unlock", auth: true})
}
