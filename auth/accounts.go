package auth

import (
	"context"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/crypt"
)

// CreateUser creates an account on behalf of an administrator. Role grants
// follow separation of duties (Z9, Z10): see authz.CheckGrant.
func (s *Service) CreateUser(ctx context.Context, a *parley.Actor, req parley.NewUser) (parley.UserID, error) {
	if err := authz.Check(a, authz.PermUsersCreate); err != nil {
		return "", err
	}
	roles := req.Roles
	if !slices.Contains(roles, parley.RoleUser) {
		roles = append(slices.Clone(roles), parley.RoleUser)
	}
	roles = dedupeRoles(roles)
	kind, err := accountKind(req.Kind)
	if err != nil {
		return "", err
	}
	if !req.EndAt.IsZero() && !req.EndAt.After(s.now()) {
		return "", parley.Errorf(parley.CodeInvalid, "end_date must be in the future")
	}
	password := req.Password
	if kind == parley.AccountService && password == "" {
		password = unusablePassword() // Z11: it never logs in interactively
	}
	u, err := s.newUser(ctx, req.Username, req.DisplayName, password, req.DepartmentID, roles)
	if err != nil {
		return "", err
	}
	u.Kind, u.EndAt = kind, req.EndAt
	gc, err := s.GrantContext(ctx)
	if err != nil {
		return "", err
	}
	// Z11: a service account holds no administrator role, whatever mix of
	// built-in and custom roles would carry one.
	if kind == parley.AccountService {
		for _, r := range roles {
			if gc.Catalog.IsAdmin(r) {
				err := parley.Errorf(parley.CodeForbidden, "a service account cannot hold the administrator role %s", r)
				_ = s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "user.create",
					Target: req.Username, SourceIP: a.SourceIP, Result: parley.ResultDenied, Reason: parley.ErrorMessage(err)})
				return "", err
			}
		}
	}
	// Who granted what, and when, is kept for the access review (Z8).
	u.Grants = authz.GrantsFromRoles(u.ID, roles, u.DepartmentID)
	for i := range u.Grants {
		u.Grants[i].GrantedBy, u.Grants[i].GrantedAt = a.UserID, u.CreatedAt
	}
	if err := authz.CheckGrant(a, u.ID, roles, gc); err != nil {
		_ = s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "user.create",
			Target: req.Username, SourceIP: a.SourceIP, Result: parley.ResultDenied, Reason: parley.ErrorMessage(err)})
		return "", err
	}
	// Granting a role beyond "user" is a role grant: it needs step-up (Z9,
	// A6) like every other sensitive operation.
	if slices.ContainsFunc(roles, func(r parley.Role) bool { return r != parley.RoleUser }) {
		if err := s.RequireStepUp(a); err != nil {
			return "", err
		}
	}
	if u.DepartmentID == "" {
		if err := s.ensureRootDepartment(ctx, u); err != nil {
			return "", err
		}
	} else if _, err := s.store.DepartmentByID(ctx, u.DepartmentID); err != nil {
		if parley.IsNotFound(err) {
			return "", parley.Errorf(parley.CodeNotFound, "department not found")
		}
		return "", err
	}
	// Record before the change and refuse if the trail cannot be written:
	// creating accounts is sensitive (L5, fail closed).
	if err := s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "user.create",
		Target: string(u.ID), SourceIP: a.SourceIP, Result: parley.ResultSuccess,
		Reason: "username=" + u.Username + " roles=" + joinRoles(roles) + lifecycleNote(u)}); err != nil {
		return "", parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if parley.ErrorCode(err) == parley.CodeConflict {
			return "", parley.Errorf(parley.CodeConflict, "username is taken")
		}
		return "", err
	}
	return u.ID, nil
}

// GrantContext is what authz.CheckGrant needs to know about this deployment.
func (s *Service) GrantContext(ctx context.Context) (authz.GrantContext, error) {
	exists, err := s.store.AnyUserWithRole(ctx, parley.RoleSecurityAdmin)
	if err != nil {
		return authz.GrantContext{}, err
	}
	setupAdmin, err := s.store.GetSetting(ctx, SettingSetupAdminID)
	if err != nil && !parley.IsNotFound(err) {
		return authz.GrantContext{}, err
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		return authz.GrantContext{}, err
	}
	return authz.GrantContext{SecurityAdminExists: exists, SetupAdminID: parley.UserID(setupAdmin), Catalog: cat}, nil
}

// newUser validates and builds an account with a hashed password.
func (s *Service) newUser(ctx context.Context, username, displayName, password string,
	dept parley.DepartmentID, roles []parley.Role) (*parley.User, error) {
	if err := ValidateUsername(username); err != nil {
		return nil, err
	}
	if err := ValidateDisplayName(displayName); err != nil {
		return nil, err
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	if err := cat.CheckRoleSet(roles); err != nil {
		return nil, err
	}
	pol, err := s.passwordPolicy(ctx)
	if err != nil {
		return nil, err
	}
	// A new account has no second factor yet: the stricter minimum applies.
	if err := s.checkNewPassword(ctx, pol, password, username, displayName, false); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return nil, parley.Internal("auth.newUser", err)
	}
	now := s.now()
	return &parley.User{
		ID: parley.NewUserID(), Username: username, DisplayName: displayName, DepartmentID: dept,
		Roles: roles, Status: parley.UserActive, PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now,
	}, nil
}

// accountKind checks the kind of a new account; empty is a person's.
func accountKind(k parley.AccountKind) (parley.AccountKind, error) {
	switch k {
	case "", parley.AccountPerson:
		return parley.AccountPerson, nil
	case parley.AccountService:
		return k, nil
	}
	return "", parley.Errorf(parley.CodeInvalid, `kind must be "person" or "service"`)
}

// lifecycleNote describes a new account's kind and end date for the audit
// trail (Z11); empty for a person's account without an end date.
func lifecycleNote(u *parley.User) string {
	note := ""
	if u.Kind == parley.AccountService {
		note += " kind=service"
	}
	if !u.EndAt.IsZero() {
		note += " end_date=" + u.EndAt.Format(time.RFC3339)
	}
	return note
}

// unusablePassword is a password nobody knows, for a service account (which
// never logs in with one). Its prefix meets every profile's composition
// rules; the rest is 256 random bits.
func unusablePassword() string {
	token, _ := crypt.NewToken()
	return "Sv-1" + token
}

// AdminPasswordHash checks a password an administrator sets for u when
// reactivating the account (Z8) against the password policy — as for an
// account without a second factor, which a reactivated account is — and
// u's password history (A3), and returns its argon2id hash for the caller
// to store. A service account may be given none: it gets one nobody knows.
func (s *Service) AdminPasswordHash(ctx context.Context, u *parley.User, password string) (string, error) {
	if password == "" && u.IsService() {
		password = unusablePassword()
	} else {
		pol, err := s.passwordPolicy(ctx)
		if err != nil {
			return "", err
		}
		if err := s.checkNewPassword(ctx, pol, password, u.Username, u.DisplayName, false); err != nil {
			return "", err
		}
		if err := s.checkHistory(ctx, pol, u, password); err != nil {
			return "", err
		}
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return "", parley.Internal("auth.AdminPasswordHash", err)
	}
	return hash, nil
}

func dedupeRoles(roles []parley.Role) []parley.Role {
	out := make([]parley.Role, 0, len(roles))
	for _, r := range roles {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func joinRoles(roles []parley.Role) string {
	s := ""
	for i, r := range roles {
		if i > 0 {
			s += ","
		}
		s += string(r)
	}
	return s
}

// Me returns the actor's account. Its MFAEnrolled says whether the user
// has any cryptographic second factor, TOTP or passkey.
func (s *Service) Me(ctx context.Context, a *parley.Actor) (*parley.User, error) {
	u, err := s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if u.MFAEnrolled, err = s.hasCryptoFactor(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}
