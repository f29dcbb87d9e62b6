package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// isolationRoutes serve the department isolation policy (Z7), a security
// admin's business (Z10); PermSecurityPolicy also demands step-up (A6).
func (a *API) isolationRoutes() []*route {
	if a.svc.Isolation == nil {
		return nil
	}
	return []*route{
		{Method: "GET", Path: "/api/v1/policy/isolation", Perm: authz.PermSecurityPolicy, Summary: "The department isolation policy",
			Response: &wire.IsolationPolicy{}, Status: 200, Handle: a.getIsolationPolicy},
		{Method: "PUT", Path: "/api/v1/policy/isolation", Perm: authz.PermSecurityPolicy, Summary: "Replace the department isolation policy (audited)",
			Request: &wire.IsolationPolicy{}, Response: &wire.IsolationPolicy{}, Status: 200, Handle: a.putIsolationPolicy},
	}
}

func wireIsolationPolicy(p *parley.IsolationPolicy) wire.IsolationPolicy {
	out := wire.IsolationPolicy{Template: string(p.Template), Allow: make([]wire.IsolationRule, 0, len(p.Allow))}
	for _, r := range p.Allow {
		out.Allow = append(out.Allow, wire.IsolationRule{A: string(r.A), B: string(r.B)})
	}
	return out
}

func (a *API) getIsolationPolicy(c *call) error {
	p, err := a.svc.Isolation.IsolationPolicy(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireIsolationPolicy(p))
	return nil
}

func (a *API) putIsolationPolicy(c *call) error {
	req := c.body.(*wire.IsolationPolicy)
	if len(req.Allow) > 1000 {
		return parley.Errorf(parley.CodeInvalid, "at most 1000 allow rules")
	}
	p := &parley.IsolationPolicy{Template: parley.IsolationTemplate(req.Template)}
	for _, r := range req.Allow {
		p.Allow = append(p.Allow, parley.IsolationRule{A: parley.DepartmentID(r.A), B: parley.DepartmentID(r.B)})
	}
	if err := a.svc.Isolation.SetIsolationPolicy(c.r.Context(), c.actor, p); err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireIsolationPolicy(p))
	return nil
}
