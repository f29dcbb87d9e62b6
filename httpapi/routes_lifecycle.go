package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// lifecycleRoutes serve offboarding, reactivation, end dates and the API
// tokens of service accounts (Z8, Z11): the system admin's, with step-up
// (users.manage is sensitive), on the management plane when there is one.
func (a *API) lifecycleRoutes() []*route {
	const u = "/api/v1/users/{id}"
	return []*route{
		{Method: "POST", Path: u + "/offboard", Perm: authz.PermUsersManage,
			Summary: "Offboard a leaver at once: disabled, sessions and WebSockets ended, tokens, roles, device keys and memberships removed, groups handed on (Z8)",
			Request: &wire.OffboardRequest{}, Response: &wire.OffboardResponse{}, Status: 200, Handle: a.offboard},
		{Method: "POST", Path: u + "/reactivate", Perm: authz.PermUsersManage,
			Summary: "Reactivate a disabled account with a new password, to be changed at next login; no roles or memberships return",
			Request: &wire.ReactivateRequest{}, Response: &wire.Account{}, Status: 200, Handle: a.reactivate},
		{Method: "GET", Path: u + "/account", Perm: authz.PermUsersManage, Summary: "An account's kind, status, end date, last login and why it was disabled",
			Response: &wire.Account{}, Status: 200, Handle: a.account},
		{Method: "PUT", Path: u + "/end-date", Perm: authz.PermUsersManage, Summary: "Set (or with null clear) the date on which the account expires (Z11)",
			Request: &wire.EndDateRequest{}, Response: &wire.Account{}, Status: 200, Handle: a.setEndDate},
		{Method: "POST", Path: u + "/tokens", Perm: authz.PermUsersManage, Summary: "Issue an API token for a service account (shown once; expires in at most 90 days)",
			Request: &wire.CreateServiceTokenRequest{}, Response: &wire.ServiceTokenCreated{}, Status: 201, Handle: a.createServiceToken},
		{Method: "GET", Path: u + "/tokens", Perm: authz.PermUsersManage, Summary: "A service account's API tokens (without secrets)",
			Response: &wire.ServiceTokenList{}, Status: 200, Handle: a.serviceTokens},
		{Method: "DELETE", Path: u + "/tokens/{token_id}", Perm: authz.PermUsersManage, Summary: "Revoke an API token; its WebSockets close at once",
			Status: 204, Handle: a.revokeServiceToken},
	}
}

func pathUser(c *call) parley.UserID { return parley.UserID(c.r.PathValue("id")) }

func (a *API) offboard(c *call) error {
	req := c.body.(*wire.OffboardRequest)
	id := pathUser(c)
	res, err := a.svc.Lifecycle.Offboard(c.r.Context(), c.actor, id, parley.UserID(req.SuccessorID), req.Reason)
	if err != nil {
		return err
	}
	out := wire.OffboardResponse{UserID: string(id), Status: string(parley.UserDisabled),
		RolesRevoked: make([]string, 0, len(res.Roles)), TokensRevoked: len(res.TokenIDs),
		PasskeysRemoved: res.Passkeys, TOTPRemoved: res.TOTP, RecoveryCodesRemoved: res.RecoveryCodes,
		ContactsRemoved: res.Contacts, ConversationsLeft: make([]string, 0, len(res.Conversations)),
		OwnershipTransferred: []wire.OwnershipTransfer{}}
	for _, g := range res.Roles {
		r := string(g.Role)
		if g.Scope != "" {
			r += "@" + string(g.Scope)
		}
		out.RolesRevoked = append(out.RolesRevoked, r)
	}
	for _, e := range res.Conversations {
		out.ConversationsLeft = append(out.ConversationsLeft, string(e.ConversationID))
		if e.WasOwner {
			out.OwnershipTransferred = append(out.OwnershipTransferred,
				wire.OwnershipTransfer{ConversationID: string(e.ConversationID), NewOwnerID: string(e.NewOwner)})
		}
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (a *API) reactivate(c *call) error {
	req := c.body.(*wire.ReactivateRequest)
	u, err := a.svc.Lifecycle.Reactivate(c.r.Context(), c.actor, pathUser(c), req.Password, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireAccount(u))
	return nil
}

func (a *API) account(c *call) error {
	u, err := a.svc.Lifecycle.Account(c.r.Context(), c.actor, pathUser(c))
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireAccount(u))
	return nil
}

func (a *API) setEndDate(c *call) error {
	req := c.body.(*wire.EndDateRequest)
	var end time.Time
	if req.EndDate != nil {
		end = *req.EndDate
	}
	u, err := a.svc.Lifecycle.SetEndDate(c.r.Context(), c.actor, pathUser(c), end)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireAccount(u))
	return nil
}

func (a *API) createServiceToken(c *call) error {
	req := c.body.(*wire.CreateServiceTokenRequest)
	if req.ExpiresInDays < 0 || req.ExpiresInDays > 90 {
		return parley.Errorf(parley.CodeInvalid, "expires_in_days must be 1 to 90")
	}
	st, secret, err := a.svc.Lifecycle.CreateServiceToken(c.r.Context(), c.actor, pathUser(c), req.Name,
		time.Duration(req.ExpiresInDays)*24*time.Hour)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusCreated, wire.ServiceTokenCreated{TokenID: st.ID, Token: secret, Name: st.Name, ExpiresAt: st.ExpiresAt})
	return nil
}

func (a *API) serviceTokens(c *call) error {
	list, err := a.svc.Lifecycle.ServiceTokens(c.r.Context(), c.actor, pathUser(c))
	if err != nil {
		return err
	}
	out := wire.ServiceTokenList{Tokens: make([]wire.ServiceToken, 0, len(list))}
	for _, st := range list {
		out.Tokens = append(out.Tokens, wire.ServiceToken{TokenID: st.ID, Name: st.Name, CreatedBy: string(st.CreatedBy),
			CreatedAt: st.CreatedAt, ExpiresAt: st.ExpiresAt, LastUsedAt: optTime(st.LastUsedAt)})
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (a *API) revokeServiceToken(c *call) error {
	if err := a.svc.Lifecycle.RevokeServiceToken(c.r.Context(), c.actor, pathUser(c), c.r.PathValue("token_id")); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func wireAccount(u *parley.User) wire.Account {
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	slices.Sort(roles)
	return wire.Account{UserID: string(u.ID), Username: u.Username, DisplayName: u.DisplayName, Kind: string(u.Kind),
		Status: string(u.Status), Roles: roles, CreatedAt: u.CreatedAt, EndDate: optTime(u.EndAt),
		LastLoginAt: optTime(u.LastLoginAt), DisabledAt: optTime(u.DisabledAt), DisabledBy: string(u.DisabledBy),
		DisabledReason: u.DisabledReason}
}

// optTime is nil for the zero time ("never", "none").
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
