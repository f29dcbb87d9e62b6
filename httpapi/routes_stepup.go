package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// stepUpRoutes serve step-up (A6): a fresh factor before sensitive
// operations, which the router enforces from authz.NeedsStepUp.
func (a *API) stepUpRoutes() []*route {
	return []*route{
		{Method: "POST", Path: "/api/v1/auth/step-up", Perm: authz.PermSelf,
			Summary: "Confirm a second factor (or, without one, the password) for sensitive operations; replaces the session",
			Request: &wire.StepUpRequest{}, Response: &wire.TokenResponse{}, Status: 200, Handle: a.stepUp},
	}
}

func (a *API) stepUp(c *call) error {
	req := c.body.(*wire.StepUpRequest)
	iss, err := a.svc.Auth.StepUp(c.r.Context(), c.actor, req.Method, req.Code, req.Password, c.meta)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.TokenResponse{Token: iss.Token, ExpiresAt: iss.ExpiresAt})
	return nil
}
