package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// directoryRoutes edit the department tree (M5): the system admin's.
func (a *API) directoryRoutes() []*route {
	return []*route{
		{Method: "PATCH", Path: "/api/v1/departments/{id}", Perm: authz.PermDepartmentsManage,
			Summary: "Rename a department or move it under another", Request: &wire.UpdateDepartmentRequest{},
			Response: &wire.Department{}, Status: 200, Handle: a.updateDepartment},
		{Method: "POST", Path: "/api/v1/departments/{id}/merge", Perm: authz.PermDepartmentsManage,
			Summary: "Move a department's members and sub-departments into another and delete it",
			Request: &wire.MergeDepartmentRequest{}, Status: 204, Handle: a.mergeDepartment},
	}
}

func (a *API) updateDepartment(c *call) error {
	req := c.body.(*wire.UpdateDepartmentRequest)
	var parent *parley.DepartmentID
	if req.ParentID != nil {
		p := parley.DepartmentID(*req.ParentID)
		parent = &p
	}
	d, err := a.svc.Directory.UpdateDepartment(c.r.Context(), c.actor, parley.DepartmentID(c.r.PathValue("id")), req.Name, parent)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireDepartment(d))
	return nil
}

func (a *API) mergeDepartment(c *call) error {
	req := c.body.(*wire.MergeDepartmentRequest)
	if err := a.svc.Directory.MergeDepartment(c.r.Context(), c.actor, parley.DepartmentID(c.r.PathValue("id")), parley.DepartmentID(req.Into)); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
