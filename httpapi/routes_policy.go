package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// policyRoutes serve the MFA roll-out policy (A2), a security admin's
// business (Z10); PermSecurityPolicy also demands step-up (A6).
func (a *API) policyRoutes() []*route {
	if a.svc.MFAPolicy == nil {
		return nil
	}
	return []*route{
		{Method: "GET", Path: "/api/v1/policy/mfa", Perm: authz.PermSecurityPolicy, Summary: "The MFA roll-out policy",
			Response: &wire.MFAPolicy{}, Status: 200, Handle: a.getMFAPolicy},
		{Method: "PUT", Path: "/api/v1/policy/mfa", Perm: authz.PermSecurityPolicy, Summary: "Replace the MFA roll-out policy (audited)",
			Request: &wire.MFAPolicy{}, Response: &wire.MFAPolicy{}, Status: 200, Handle: a.putMFAPolicy},
	}
}

func wireMFAPolicy(p *parley.MFAPolicy) wire.MFAPolicy {
	out := wire.MFAPolicy{RequireAll: p.RequireAll, Departments: []wire.DepartmentMFARule{}}
	for _, d := range p.Departments {
		r := wire.DepartmentMFARule{DepartmentID: string(d.DepartmentID)}
		if !d.GraceUntil.IsZero() {
			g := d.GraceUntil
			r.GraceUntil = &g
		}
		out.Departments = append(out.Departments, r)
	}
	return out
}

func (a *API) getMFAPolicy(c *call) error {
	p, err := a.svc.MFAPolicy.MFAPolicy(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireMFAPolicy(p))
	return nil
}

func (a *API) putMFAPolicy(c *call) error {
	req := c.body.(*wire.MFAPolicy)
	p := &parley.MFAPolicy{RequireAll: req.RequireAll}
	for _, d := range req.Departments {
		r := parley.DepartmentMFA{DepartmentID: parley.DepartmentID(d.DepartmentID)}
		if d.GraceUntil != nil {
			r.GraceUntil = d.GraceUntil.UTC()
		}
		p.Departments = append(p.Departments, r)
	}
	if err := a.svc.MFAPolicy.SetMFAPolicy(c.r.Context(), c.actor, p); err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireMFAPolicy(p))
	return nil
}
