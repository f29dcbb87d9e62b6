package httpapi

import (
	"encoding/csv"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// accessRoutes serve roles, grants and the access review (Z1, Z6, Z8, Z9,
// Z10). Grants and custom-role changes are the security admin's and need
// step-up (authz.sensitive).
func (a *API) accessRoutes() []*route {
	if a.svc.Access == nil {
		return nil
	}
	const v1 = "/api/v1"
	return []*route{
		{Method: "GET", Path: v1 + "/roles", Perm: authz.PermRolesRead, Summary: "Built-in and custom roles with their permissions",
			Response: &wire.RoleList{}, Status: 200, Handle: a.listRoles},
		{Method: "POST", Path: v1 + "/roles", Perm: authz.PermRolesManage, Summary: "Define a custom role (Z6)",
			Request: &wire.CreateRoleRequest{}, Response: &wire.Role{}, Status: 201, Handle: a.createRole},
		{Method: "PATCH", Path: v1 + "/roles/{id}", Perm: authz.PermRolesManage, Summary: "Change a custom role; holders' sessions end",
			Request: &wire.UpdateRoleRequest{}, Response: &wire.Role{}, Status: 200, Handle: a.updateRole},
		{Method: "DELETE", Path: v1 + "/roles/{id}", Perm: authz.PermRolesManage, Summary: "Delete a custom role nobody holds",
			Status: 204, Handle: a.deleteRole},
		{Method: "GET", Path: v1 + "/users/{id}/roles", Perm: authz.PermRolesRead, Summary: "A user's role grants",
			Response: &wire.GrantList{}, Status: 200, Handle: a.userGrants},
		{Method: "POST", Path: v1 + "/users/{id}/roles", Perm: authz.PermRolesGrant,
			Summary: "Grant a role (Z9/Z10); the user's sessions end; may wait for a second administrator",
			Request: &wire.GrantRoleRequest{}, Response: &wire.GrantResult{}, Status: 200, Handle: a.grantRole},
		{Method: "POST", Path: v1 + "/users/{id}/roles/revoke", Perm: authz.PermRolesGrant, Summary: "Revoke a role; the user's sessions end",
			Request: &wire.GrantRoleRequest{}, Status: 204, Handle: a.revokeRole},
		{Method: "GET", Path: v1 + "/role-requests", Perm: authz.PermRolesGrant, Summary: "Two-person grant requests",
			Response: &wire.RoleGrantRequestList{}, Status: 200, Handle: a.grantRequests},
		{Method: "POST", Path: v1 + "/role-requests/{id}/approve", Perm: authz.PermRolesGrant, Summary: "Approve a grant request (not the requester or target)",
			Response: &wire.GrantResult{}, Status: 200, Handle: a.decideGrant(true)},
		{Method: "POST", Path: v1 + "/role-requests/{id}/deny", Perm: authz.PermRolesGrant, Summary: "Deny a grant request",
			Response: &wire.GrantResult{}, Status: 200, Handle: a.decideGrant(false)},
		{Method: "GET", Path: v1 + "/policy/roles", Perm: authz.PermSecurityPolicy, Summary: "The role-grant policy",
			Response: &wire.RolePolicy{}, Status: 200, Handle: a.getRolePolicy},
		{Method: "PUT", Path: v1 + "/policy/roles", Perm: authz.PermSecurityPolicy, Summary: "Switch the two-person rule for administrator roles (audited)",
			Request: &wire.RolePolicy{}, Response: &wire.RolePolicy{}, Status: 200, Handle: a.putRolePolicy},
		{Method: "GET", Path: v1 + "/access-review", Perm: authz.PermAccessReview, Summary: "Who holds what, since when, last used; flags (Z8). format=csv for CSV",
			Response: &wire.AccessReview{}, Status: 200, Handle: a.accessReview,
			Query: []queryParam{{"format", "string", "json (default) or csv"}}},
		{Method: "POST", Path: v1 + "/access-review/confirm", Perm: authz.PermAccessReview, Summary: "Record a reviewer's decision to keep a grant",
			Request: &wire.ConfirmReviewRequest{}, Status: 204, Handle: a.confirmReview},
	}
}

func wireRole(r parley.RoleInfo) wire.Role {
	return wire.Role{RoleID: string(r.ID), Name: r.Name, Description: r.Description, Builtin: r.Builtin,
		Admin: r.Admin, Permissions: nonNil(r.Permissions)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *API) listRoles(c *call) error {
	roles, err := a.svc.Access.Roles(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	out := wire.RoleList{Roles: []wire.Role{}}
	for _, r := range roles {
		out.Roles = append(out.Roles, wireRole(r))
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

// customInfo describes a custom role as Roles lists it; admin is decided
// by the same catalog rule (more than the "user" role's permissions).
func customInfo(r *parley.CustomRole) wire.Role {
	return wireRole(parley.RoleInfo{ID: r.ID, Name: r.Name, Description: r.Description, Permissions: r.Permissions,
		Admin: authz.NewCatalog([]*parley.CustomRole{r}).IsAdmin(r.ID)})
}

func (a *API) createRole(c *call) error {
	req := c.body.(*wire.CreateRoleRequest)
	r, err := a.svc.Access.CreateRole(c.r.Context(), c.actor, req.Name, req.Description, req.Permissions)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusCreated, customInfo(r))
	return nil
}

func (a *API) updateRole(c *call) error {
	req := c.body.(*wire.UpdateRoleRequest)
	r, err := a.svc.Access.UpdateRole(c.r.Context(), c.actor, parley.Role(c.r.PathValue("id")), req.Name, req.Description, req.Permissions)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, customInfo(r))
	return nil
}

func (a *API) deleteRole(c *call) error {
	if err := a.svc.Access.DeleteRole(c.r.Context(), c.actor, parley.Role(c.r.PathValue("id"))); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func wireGrants(gs []parley.RoleGrant) []wire.Grant {
	out := make([]wire.Grant, 0, len(gs))
	for _, g := range gs {
		w := wire.Grant{Role: string(g.Role), DepartmentID: string(g.Scope), GrantedBy: string(g.GrantedBy), GrantedAt: g.GrantedAt}
		if !g.LastUsedAt.IsZero() {
			t := g.LastUsedAt
			w.LastUsedAt = &t
		}
		out = append(out, w)
	}
	return out
}

func (a *API) userGrants(c *call) error {
	gs, err := a.svc.Access.UserGrants(c.r.Context(), c.actor, parley.UserID(c.r.PathValue("id")))
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.GrantList{Grants: wireGrants(gs)})
	return nil
}

func grantResult(o *parley.GrantOutcome) wire.GrantResult {
	if o.Granted {
		return wire.GrantResult{Status: "granted", RequestID: o.RequestID}
	}
	if o.RequestID != "" {
		return wire.GrantResult{Status: "pending_approval", RequestID: o.RequestID}
	}
	return wire.GrantResult{Status: "denied"}
}

func (a *API) grantRole(c *call) error {
	req := c.body.(*wire.GrantRoleRequest)
	o, err := a.svc.Access.Grant(c.r.Context(), c.actor, parley.UserID(c.r.PathValue("id")), parley.Role(req.Role),
		parley.DepartmentID(req.DepartmentID), req.Reason)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, grantResult(o))
	return nil
}

func (a *API) revokeRole(c *call) error {
	req := c.body.(*wire.GrantRoleRequest)
	if err := a.svc.Access.Revoke(c.r.Context(), c.actor, parley.UserID(c.r.PathValue("id")), parley.Role(req.Role),
		parley.DepartmentID(req.DepartmentID), req.Reason); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) grantRequests(c *call) error {
	list, err := a.svc.Access.GrantRequests(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	out := wire.RoleGrantRequestList{Requests: []wire.RoleGrantRequest{}}
	for _, r := range list {
		w := wire.RoleGrantRequest{RequestID: r.ID, UserID: string(r.UserID), Role: string(r.Role), DepartmentID: string(r.Scope),
			Reason: r.Reason, RequestedBy: string(r.RequestedBy), RequestedAt: r.RequestedAt, ExpiresAt: r.ExpiresAt,
			Status: r.Status, DecidedBy: string(r.DecidedBy)}
		if !r.DecidedAt.IsZero() {
			t := r.DecidedAt
			w.DecidedAt = &t
		}
		out.Requests = append(out.Requests, w)
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (a *API) decideGrant(approve bool) func(c *call) error {
	return func(c *call) error {
		o, err := a.svc.Access.DecideGrantRequest(c.r.Context(), c.actor, c.r.PathValue("id"), approve)
		if err != nil {
			return err
		}
		writeJSON(c.w, http.StatusOK, grantResult(o))
		return nil
	}
}

func (a *API) getRolePolicy(c *call) error {
	on, err := a.svc.Access.TwoPerson(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.RolePolicy{TwoPerson: on})
	return nil
}

func (a *API) putRolePolicy(c *call) error {
	req := c.body.(*wire.RolePolicy)
	if err := a.svc.Access.SetTwoPerson(c.r.Context(), c.actor, req.TwoPerson); err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, *req)
	return nil
}

func (a *API) accessReview(c *call) error {
	format := c.query["format"]
	if format != "" && format != "json" && format != "csv" {
		return parley.Errorf(parley.CodeInvalid, "format must be json or csv")
	}
	rep, err := a.svc.Access.AccessReview(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	out := wire.AccessReview{GeneratedAt: rep.GeneratedAt, Users: []wire.AccessReviewUser{}}
	for _, e := range rep.Entries {
		out.Users = append(out.Users, wire.AccessReviewUser{UserID: string(e.User.ID), Username: e.User.Username,
			DisplayName: e.User.DisplayName, Status: string(e.User.Status), DepartmentID: string(e.User.DepartmentID),
			Grants: wireGrants(e.Grants), Flags: nonNil(e.Flags)})
	}
	if format != "csv" {
		writeJSON(c.w, http.StatusOK, out)
		return nil
	}
	c.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	c.w.Header().Set("Content-Disposition", `attachment; filename="access-review.csv"`)
	c.w.WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.w)
	_ = w.Write([]string{"user_id", "username", "display_name", "status", "department_id", "role", "scope",
		"granted_by", "granted_at", "last_used_at", "flags"})
	for _, u := range out.Users {
		for _, g := range u.Grants {
			last := ""
			if g.LastUsedAt != nil {
				last = g.LastUsedAt.Format(time.RFC3339)
			}
			_ = w.Write(csvSafe(u.UserID, u.Username, u.DisplayName, u.Status, u.DepartmentID, g.Role, g.DepartmentID,
				g.GrantedBy, g.GrantedAt.Format(time.RFC3339), last, strings.Join(u.Flags, " ")))
		}
	}
	w.Flush()
	return nil
}

// csvSafe defuses spreadsheet formulas: a cell a spreadsheet would
// evaluate (=, +, -, @, tab, CR first) gets a leading apostrophe, so a
// display name cannot run code on the reviewer's machine (I3).
func csvSafe(cells ...string) []string {
	for i, s := range cells {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			cells[i] = "'" + s
		}
	}
	return cells
}

func (a *API) confirmReview(c *call) error {
	req := c.body.(*wire.ConfirmReviewRequest)
	if err := a.svc.Access.ConfirmReview(c.r.Context(), c.actor, parley.UserID(req.UserID), parley.Role(req.Role),
		parley.DepartmentID(req.DepartmentID), req.Note); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
