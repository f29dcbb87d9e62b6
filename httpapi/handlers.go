package httpapi

import (
	"net/http"
	"sort"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

func (a *API) healthz(c *call) error {
	writeJSON(c.w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (a *API) readyz(c *call) error {
	if a.svc.Ready != nil {
		if err := a.svc.Ready(c.r.Context()); err != nil {
			a.log.WarnContext(c.r.Context(), "not ready", "err", err)
			return parley.Errorf(parley.CodeUnavailable, "not ready")
		}
	}
	writeJSON(c.w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (a *API) setup(c *call) error {
	req := c.body.(*wire.SetupRequest)
	id, err := a.svc.Auth.Setup(c.r.Context(), parley.SetupRequest{
		Token: req.SetupToken, Username: req.Username, Password: req.Password, DisplayName: req.DisplayName,
	}, c.meta)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusCreated, wire.UserIDResponse{UserID: string(id)})
	return nil
}

func (a *API) login(c *call) error {
	req := c.body.(*wire.LoginRequest)
	res, err := a.svc.Auth.Login(c.r.Context(), req.Username, req.Password, c.meta)
	if err != nil {
		return err
	}
	if res.Issued == nil {
		writeJSON(c.w, http.StatusOK, wire.LoginResponse{MFARequired: true, MFAToken: res.MFAToken, Methods: res.Methods, Notices: res.Notices})
		return nil
	}
	exp := res.Issued.ExpiresAt
	writeJSON(c.w, http.StatusOK, wire.LoginResponse{Token: res.Issued.Token, ExpiresAt: &exp, Notices: res.Notices})
	return nil
}

func (a *API) mfa(c *call) error {
	req := c.body.(*wire.MFARequest)
	iss, err := a.svc.Auth.CompleteMFA(c.r.Context(), req.MFAToken, req.Method, req.Code, c.meta)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.TokenResponse{Token: iss.Token, ExpiresAt: iss.ExpiresAt})
	return nil
}

func (a *API) totpEnroll(c *call) error {
	e, err := a.svc.Auth.EnrollTOTP(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.TOTPEnrollResponse{Secret: e.Secret, OtpauthURL: e.OtpauthURL})
	return nil
}

func (a *API) totpConfirm(c *call) error {
	req := c.body.(*wire.TOTPConfirmRequest)
	res, err := a.svc.Auth.ConfirmTOTP(c.r.Context(), c.actor, req.Code, c.meta)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.TOTPConfirmResponse{
		RecoveryCodes: res.RecoveryCodes, Token: res.Issued.Token, ExpiresAt: res.Issued.ExpiresAt,
	})
	return nil
}

func (a *API) logout(c *call) error {
	if err := a.svc.Auth.Logout(c.r.Context(), c.actor); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) me(c *call) error {
	u, err := a.svc.Auth.Me(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	sort.Strings(roles)
	writeJSON(c.w, http.StatusOK, wire.Me{UserID: string(u.ID), Username: u.Username, DisplayName: u.DisplayName,
		DepartmentID: string(u.DepartmentID), Roles: roles, MFAEnrolled: u.MFAEnrolled, Title: u.Title})
	return nil
}

func (a *API) sessions(c *call) error {
	list, err := a.svc.Auth.Sessions(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	out := wire.SessionList{Sessions: make([]wire.Session, 0, len(list))}
	for _, s := range list {
		if s.Stage != parley.SessionActive {
			continue
		}
		out.Sessions = append(out.Sessions, wire.Session{SessionID: s.ID, Current: s.ID == c.actor.SessionID,
			CreatedAt: s.CreatedAt, LastActiveAt: s.LastActiveAt, ExpiresAt: s.ExpiresAt,
			SourceIP: s.SourceIP, UserAgent: s.UserAgent})
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (a *API) revokeSession(c *call) error {
	if err := a.svc.Auth.RevokeSession(c.r.Context(), c.actor, c.r.PathValue("id")); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) createUser(c *call) error {
	req := c.body.(*wire.CreateUserRequest)
	roles := make([]parley.Role, len(req.Roles))
	for i, r := range req.Roles {
		roles[i] = parley.Role(r)
	}
	nu := parley.NewUser{Username: req.Username, DisplayName: req.DisplayName, Password: req.Password,
		DepartmentID: parley.DepartmentID(req.DepartmentID), Roles: roles, Kind: parley.AccountKind(req.Kind)}
	if req.EndDate != nil {
		nu.EndAt = *req.EndDate
	}
	id, err := a.svc.Auth.CreateUser(c.r.Context(), c.actor, nu)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusCreated, wire.UserIDResponse{UserID: string(id)})
	return nil
}

func (a *API) users(c *call) error {
	var list []*parley.User
	var err error
	if dept, ok := c.query["department_id"]; ok {
		list, err = a.svc.Directory.UsersInDepartment(c.r.Context(), c.actor, parley.DepartmentID(dept), c.query["q"], int(c.intQuery("limit")))
	} else {
		list, err = a.svc.Directory.Users(c.r.Context(), c.actor, c.query["q"], int(c.intQuery("limit")))
	}
	if err != nil {
		return err
	}
	out := wire.UserList{Users: make([]wire.UserSummary, len(list))}
	for i, u := range list {
		out.Users[i] = wireUserSummary(u)
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func wireDepartment(d *parley.Department) wire.Department {
	return wire.Department{DepartmentID: string(d.ID), ParentID: string(d.ParentID), Name: d.Name}
}

func (a *API) createDepartment(c *call) error {
	req := c.body.(*wire.CreateDepartmentRequest)
	d, err := a.svc.Directory.CreateDepartment(c.r.Context(), c.actor, req.Name, parley.DepartmentID(req.ParentID))
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusCreated, wireDepartment(d))
	return nil
}

func (a *API) departments(c *call) error {
	list, err := a.svc.Directory.Departments(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	out := wire.DepartmentList{Departments: make([]wire.Department, len(list))}
	for i, d := range list {
		out.Departments[i] = wireDepartment(d)
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}
