package client

import (
	"context"
	"net/http"

	"github.com/parleyhq/parley/wire"
)

// BuildInfo returns what the server binary was built from: Go version,
// main module, build settings and every linked module (V1). System admins
// only.
func (c *Client) BuildInfo(ctx context.Context) (*wire.BuildInfo, error) {
	var out wire.BuildInfo
	if err := c.do(ctx, call{method: http.MethodGet, path: "/admin/buildinfo", out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// SBOM returns the server binary's CycloneDX 1.6 bill of materials (V1).
// System admins only.
func (c *Client) SBOM(ctx context.Context) (*wire.SBOM, error) {
	var out wire.SBOM
	if err := c.do(ctx, call{method: http.MethodGet, path: "/admin/sbom", out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}
