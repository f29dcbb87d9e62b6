package client

import (
	"context"
	"net/http"

	"github.com/parleyhq/parley/wire"
)

// IsolationPolicy returns the department isolation policy (security
// admins, step-up).
func (c *Client) IsolationPolicy(ctx context.Context) (*wire.IsolationPolicy, error) {
	var out wire.IsolationPolicy
	err := c.do(ctx, call{method: http.MethodGet, path: "/policy/isolation", auth: true, out: &out})
	return &out, err
}

// SetIsolationPolicy replaces the department isolation policy (security
// admins, step-up): template "open" or "strict" plus allow rules.
func (c *Client) SetIsolationPolicy(ctx context.Context, p wire.IsolationPolicy) (*wire.IsolationPolicy, error) {
	var out wire.IsolationPolicy
	err := c.do(ctx, call{method: http.MethodPut, path: "/policy/isolation", auth: true, in: p, out: &out})
	return &out, err
}
