package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// passwordRoutes are the operations of the password feature: the policy as
// data (A3; security admins, Z10), the password change (A3, A5) and the
// admin unlock of a lockout (A9). Every permission here is sensitive, so
// the router demands step-up (A6) — except for the change of an expired
// password (see prepare).
func (a *API) passwordRoutes() []*route {
	if a.svc.Passwords == nil {
		return nil
	}
	const v1 = "/api/v1"
	return []*route{
		{Method: "GET", Path: v1 + "/policy/password", Perm: authz.PermSecurityPolicy, Summary: "The password policy in force (A3)",
			Response: &wire.PasswordPolicy{}, Status: 200, Handle: a.getPasswordPolicy},
		{Method: "PUT", Path: v1 + "/policy/password", Perm: authz.PermSecurityPolicy,
			Summary: "Set the password policy: a profile (checklist, nist, mlps3) with optional overrides; validated and audited",
			Request: &wire.PasswordPolicyUpdate{}, Response: &wire.PasswordPolicy{}, Status: 200, Handle: a.putPasswordPolicy},
		{Method: "POST", Path: v1 + "/auth/password", Perm: authz.PermCredentials, ExpiredPassword: true,
			Summary: "Change the caller's password (policy and history checked); revokes every other session",
			Request: &wire.ChangePasswordRequest{}, Status: 204, Handle: a.changePassword},
		{Method: "POST", Path: v1 + "/users/{id}/unlock", Perm: authz.PermUsersUnlock, Summary: "Lift a user's login lockout (A9; audited)",
			Status: 204, Handle: a.unlockUser},
	}
}

func (a *API) wirePasswordPolicy(p *parley.PasswordPolicy) wire.PasswordPolicy {
	return wire.PasswordPolicy{Profile: p.Profile, MinLength: p.MinLength, MinLengthWithMFA: p.MinLengthWithMFA,
		RequireClasses: p.RequireClasses, HistoryCount: p.HistoryCount, MaxAgeDays: p.MaxAgeDays,
		LockoutThreshold: p.LockoutThreshold, LockoutMinutes: p.LockoutMinutes, MFAForAll: p.MFAForAll,
		BreachedListSize: a.svc.Passwords.BreachedListSize()}
}

func (a *API) getPasswordPolicy(c *call) error {
	p, err := a.svc.Passwords.PasswordPolicy(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, a.wirePasswordPolicy(p))
	return nil
}

// putPasswordPolicy starts from the named profile's preset and applies the
// fields given, so {"profile":"nist"} and a full policy both work; the
// service validates the result against the profile's promises.
func (a *API) putPasswordPolicy(c *call) error {
	req := c.body.(*wire.PasswordPolicyUpdate)
	p, ok := parley.PasswordPreset(req.Profile)
	if !ok {
		p.Profile = req.Profile // refused, and audited, by the service
	}
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setBool := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setInt(&p.MinLength, req.MinLength)
	setInt(&p.MinLengthWithMFA, req.MinLengthWithMFA)
	setBool(&p.RequireClasses, req.RequireClasses)
	setInt(&p.HistoryCount, req.HistoryCount)
	setInt(&p.MaxAgeDays, req.MaxAgeDays)
	setInt(&p.LockoutThreshold, req.LockoutThreshold)
	setInt(&p.LockoutMinutes, req.LockoutMinutes)
	setBool(&p.MFAForAll, req.MFAForAll)
	if err := a.svc.Passwords.SetPasswordPolicy(c.r.Context(), c.actor, &p); err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, a.wirePasswordPolicy(&p))
	return nil
}

func (a *API) changePassword(c *call) error {
	req := c.body.(*wire.ChangePasswordRequest)
	if err := a.svc.Passwords.ChangePassword(c.r.Context(), c.actor, req.CurrentPassword, req.NewPassword); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) unlockUser(c *call) error {
	if err := a.svc.Passwords.UnlockUser(c.r.Context(), c.actor, parley.UserID(c.r.PathValue("id"))); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
