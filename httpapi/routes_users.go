package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// userRoutes edit directory entries (M5): anyone's by the system admin
// (users.manage: sensitive, so the router demands step-up; on the
// management plane when there is one), the caller's own display name by
// the caller. The strict decoder refuses every field the request types do
// not name, so roles, status or department cannot ride along (no mass
// assignment, Z6).
func (a *API) userRoutes() []*route {
	return []*route{
		{Method: "PATCH", Path: "/api/v1/users/{id}", Perm: authz.PermUsersManage,
			Summary: "Change a user's display name, department or job title; role grants stay with their departments",
			Request: &wire.UpdateUserRequest{}, Response: &wire.UserSummary{}, Status: 200, Handle: a.updateUser},
		{Method: "PATCH", Path: "/api/v1/me", Perm: authz.PermSelf,
			Summary: "Change the caller's display name", Request: &wire.UpdateMeRequest{},
			Response: &wire.Me{}, Status: 200, Handle: a.updateMe},
	}
}

func (a *API) updateUser(c *call) error {
	req := c.body.(*wire.UpdateUserRequest)
	upd := parley.UserUpdate{DisplayName: req.DisplayName, Title: req.Title}
	if req.DepartmentID != nil {
		d := parley.DepartmentID(*req.DepartmentID)
		upd.DepartmentID = &d
	}
	u, err := a.svc.Directory.UpdateUser(c.r.Context(), c.actor, pathUser(c), upd)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireUserSummary(u))
	return nil
}

func (a *API) updateMe(c *call) error {
	req := c.body.(*wire.UpdateMeRequest)
	if req.DisplayName == nil {
		return parley.Errorf(parley.CodeInvalid, "nothing to change: give display_name")
	}
	if _, err := a.svc.Directory.UpdateMe(c.r.Context(), c.actor, *req.DisplayName); err != nil {
		return err
	}
	return a.me(c) // the same answer as GET /me, second factors included
}

func wireUserSummary(u *parley.User) wire.UserSummary {
	return wire.UserSummary{UserID: string(u.ID), Username: u.Username, DisplayName: u.DisplayName,
		DepartmentID: string(u.DepartmentID), Title: u.Title}
}
