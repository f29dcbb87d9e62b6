package client

import (
	"context"
	"net/http"

	"github.com/parleyhq/parley/wire"
)

// UpdateDepartment renames and/or moves a department (system admins).
func (c *Client) UpdateDepartment(ctx context.Context, id string, req wire.UpdateDepartmentRequest) (*wire.Department, error) {
	p, err := escapeID(id)
	if err != nil {
		return nil, err
	}
	var out wire.Department
	err = c.do(ctx, call{method: http.MethodPatch, path: "/departments/" + p, auth: true, in: req, out: &out})
	return &out, err
}

// MergeDepartment moves a department's members and sub-departments into
// another and deletes it (system admins).
func (c *Client) MergeDepartment(ctx context.Context, id, into string) error {
	p, err := escapeID(id)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: "/departments/" + p + "/merge", auth: true,
		in: wire.MergeDepartmentRequest{Into: into}})
}
