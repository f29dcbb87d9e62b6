package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/parleyhq/parley/wire"
)

// UsersInDepartment searches the users of a department and its
// sub-departments by username or display name (query may be empty). The
// isolation policy filters the answer as for Users; an unknown department
// is not_found.
func (c *Client) UsersInDepartment(ctx context.Context, departmentID, query string) ([]wire.UserSummary, error) {
	if departmentID == "" {
		return nil, errors.New("client: department ID required")
	}
	q := url.Values{"department_id": {departmentID}}
	if query != "" {
		q.Set("q", query)
	}
	var out wire.UserList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/users", query: q, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return out.Users, nil
}

// UpdateUser changes another user's display name, department and/or job
// title; nil fields stay as they are (system admins, with a recent
// step-up). Role grants do not follow a user to the new department.
func (c *Client) UpdateUser(ctx context.Context, userID string, req wire.UpdateUserRequest) (*wire.UserSummary, error) {
	p, err := userPath(userID, "")
	if err != nil {
		return nil, err
	}
	var out wire.UserSummary
	if err := c.do(ctx, call{method: http.MethodPatch, path: p, in: req, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateMe changes the caller's display name and returns the account as
// Me does.
func (c *Client) UpdateMe(ctx context.Context, displayName string) (*wire.Me, error) {
	var out wire.Me
	err := c.do(ctx, call{method: http.MethodPatch, path: "/me", in: wire.UpdateMeRequest{DisplayName: &displayName}, out: &out, auth: true})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
