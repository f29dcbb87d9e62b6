package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/parleyhq/parley/wire"
)

// Roles lists the built-in and custom roles with their permissions.
func (c *Client) Roles(ctx context.Context) ([]wire.Role, error) {
	var out wire.RoleList
	err := c.do(ctx, call{method: http.MethodGet, path: "/roles", auth: true, out: &out})
	return out.Roles, err
}

// CreateRole defines a custom role (security admins, step-up).
func (c *Client) CreateRole(ctx context.Context, req wire.CreateRoleRequest) (*wire.Role, error) {
	var out wire.Role
	err := c.do(ctx, call{method: http.MethodPost, path: "/roles", auth: true, in: req, out: &out})
	return &out, err
}

// UpdateRole changes a custom role.
func (c *Client) UpdateRole(ctx context.Context, id string, req wire.UpdateRoleRequest) (*wire.Role, error) {
	p, err := escapeID(id)
	if err != nil {
		return nil, err
	}
	var out wire.Role
	err = c.do(ctx, call{method: http.MethodPatch, path: "/roles/" + p, auth: true, in: req, out: &out})
	return &out, err
}

// DeleteRole deletes a custom role nobody holds.
func (c *Client) DeleteRole(ctx context.Context, id string) error {
	p, err := escapeID(id)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: "/roles/" + p, auth: true})
}

// UserGrants lists a user's role grants.
func (c *Client) UserGrants(ctx context.Context, userID string) ([]wire.Grant, error) {
	p, err := escapeID(userID)
	if err != nil {
		return nil, err
	}
	var out wire.GrantList
	err = c.do(ctx, call{method: http.MethodGet, path: "/users/" + p + "/roles", auth: true, out: &out})
	return out.Grants, err
}

// GrantRole grants a role; under the two-person rule the result may be
// "pending_approval" with a request ID.
func (c *Client) GrantRole(ctx context.Context, userID string, req wire.GrantRoleRequest) (*wire.GrantResult, error) {
	p, err := escapeID(userID)
	if err != nil {
		return nil, err
	}
	var out wire.GrantResult
	err = c.do(ctx, call{method: http.MethodPost, path: "/users/" + p + "/roles", auth: true, in: req, out: &out})
	return &out, err
}

// RevokeRole revokes a role.
func (c *Client) RevokeRole(ctx context.Context, userID string, req wire.GrantRoleRequest) error {
	p, err := escapeID(userID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: "/users/" + p + "/roles/revoke", auth: true, in: req})
}

// RoleRequests lists two-person grant requests.
func (c *Client) RoleRequests(ctx context.Context) ([]wire.RoleGrantRequest, error) {
	var out wire.RoleGrantRequestList
	err := c.do(ctx, call{method: http.MethodGet, path: "/role-requests", auth: true, out: &out})
	return out.Requests, err
}

// DecideRoleRequest approves or denies a two-person grant request.
func (c *Client) DecideRoleRequest(ctx context.Context, id string, approve bool) (*wire.GrantResult, error) {
	p, err := escapeID(id)
	if err != nil {
		return nil, err
	}
	verb := "/deny"
	if approve {
		verb = "/approve"
	}
	var out wire.GrantResult
	err = c.do(ctx, call{method: http.MethodPost, path: "/role-requests/" + p + verb, auth: true, out: &out})
	return &out, err
}

// RolePolicy returns the role-grant policy.
func (c *Client) RolePolicy(ctx context.Context) (*wire.RolePolicy, error) {
	var out wire.RolePolicy
	err := c.do(ctx, call{method: http.MethodGet, path: "/policy/roles", auth: true, out: &out})
	return &out, err
}

// SetRolePolicy replaces the role-grant policy.
func (c *Client) SetRolePolicy(ctx context.Context, p wire.RolePolicy) error {
	return c.do(ctx, call{method: http.MethodPut, path: "/policy/roles", auth: true, in: p, out: &wire.RolePolicy{}})
}

// AccessReview returns the access-review report.
func (c *Client) AccessReview(ctx context.Context) (*wire.AccessReview, error) {
	var out wire.AccessReview
	err := c.do(ctx, call{method: http.MethodGet, path: "/access-review", auth: true, out: &out})
	return &out, err
}

// AccessReviewCSV returns the access-review report as CSV.
func (c *Client) AccessReviewCSV(ctx context.Context) ([]byte, error) {
	var out []byte
	err := c.do(ctx, call{method: http.MethodGet, path: "/access-review", query: url.Values{"format": {"csv"}}, auth: true, raw: &out})
	return out, err
}

// ConfirmReview records a reviewer's decision to keep a grant.
func (c *Client) ConfirmReview(ctx context.Context, req wire.ConfirmReviewRequest) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/access-review/confirm", auth: true, in: req})
}
