package access

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// requestTTL is how long a two-person grant request waits for a decision.
const requestTTL = 72 * time.Hour

// UserGrants lists a user's grants. Another user's grants need roles.read;
// everyone may read their own.
func (s *Service) UserGrants(ctx context.Context, a *parley.Actor, user parley.UserID) ([]parley.RoleGrant, error) {
	if user != a.UserID {
		if err := authz.Check(a, authz.PermRolesRead); err != nil {
			return nil, err
		}
	}
	u, err := s.store.UserByID(ctx, user)
	if err != nil {
		if parley.IsNotFound(err) {
			return nil, parley.Errorf(parley.CodeNotFound, "user not found")
		}
		return nil, err
	}
	if user != a.UserID {
		// A reader scoped to a department sees only its users (Z6).
		if err := authz.CheckOver(ctx, a, authz.PermRolesRead, u.DepartmentID, s.store.ListDepartments); err != nil {
			if parley.IsNotFound(err) {
				return nil, parley.Errorf(parley.CodeNotFound, "user not found")
			}
			return nil, err
		}
	}
	return u.Grants, nil
}

// target loads the user a grant is about and checks the scope: only
// department_admin and custom roles are scoped; department_admin always
// is (to the target's own department if none is named).
func (s *Service) target(ctx context.Context, user parley.UserID, role parley.Role, scope parley.DepartmentID) (*parley.User, parley.DepartmentID, error) {
	u, err := s.store.UserByID(ctx, user)
	if err != nil {
		if parley.IsNotFound(err) {
			return nil, "", parley.Errorf(parley.CodeNotFound, "user not found")
		}
		return nil, "", err
	}
	switch {
	case role == parley.RoleDepartmentAdmin && scope == "":
		scope = u.DepartmentID
	case scope != "" && role != parley.RoleDepartmentAdmin && !authz.IsCustom(role):
		return nil, "", parley.Errorf(parley.CodeInvalid, "role %s is organisation-wide and takes no department scope", role)
	}
	if scope != "" {
		if _, err := s.store.DepartmentByID(ctx, scope); err != nil {
			if parley.IsNotFound(err) {
				return nil, "", parley.Errorf(parley.CodeNotFound, "department not found")
			}
			return nil, "", err
		}
	}
	return u, scope, nil
}

func grantTarget(user parley.UserID, role parley.Role, scope parley.DepartmentID) string {
	t := string(user) + " " + string(role)
	if scope != "" {
		t += "@" + string(scope)
	}
	return t
}

func checkReason(reason string) error {
	if utf8.RuneCountInString(reason) > 500 || !parley.CleanText(reason) {
		return parley.Errorf(parley.CodeInvalid, "reason must be at most 500 printable characters")
	}
	return nil
}

// Grant gives user role over scope. Nobody changes their own roles; only
// a security_admin grants (the setup administrator during bootstrap); the
// result must respect the three-way separation (Z9, Z10). Under the
// two_person policy an administrator role waits for a second
// administrator. The target's sessions end at once (A5): the role takes
// effect on their next, new session, WebSockets included.
func (s *Service) Grant(ctx context.Context, a *parley.Actor, user parley.UserID, role parley.Role, scope parley.DepartmentID, reason string) (*parley.GrantOutcome, error) {
	const action = "role.grant"
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	u, scope, err := s.target(ctx, user, role, scope)
	if err != nil {
		return nil, err
	}
	target := grantTarget(user, role, scope)
	gc, err := s.sessions.GrantContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := authz.CheckGrantor(a, user, gc); err != nil {
		return nil, s.deny(ctx, a, action, target, err)
	}
	if role == parley.RoleUser {
		return nil, parley.Errorf(parley.CodeInvalid, "every account holds the user role")
	}
	// The grantor was checked above; the resulting role set is checked
	// here for a clear early answer, and again by apply inside the write
	// transaction, which is what holds against concurrent changes (Z10).
	roles := u.Roles
	if !slices.Contains(roles, role) {
		roles = append(slices.Clone(roles), role)
	}
	if err := gc.Catalog.CheckRoleSet(roles); err != nil {
		return nil, s.deny(ctx, a, action, target, err)
	}
	if slices.ContainsFunc(u.Grants, func(g parley.RoleGrant) bool { return g.Role == role && g.Scope == scope }) {
		return nil, parley.Errorf(parley.CodeConflict, "the user already holds this role there")
	}
	if u.Status != parley.UserActive {
		return nil, s.deny(ctx, a, action, target, parley.Errorf(parley.CodeConflict, "the account is not active"))
	}
	if err := s.checkHolder(ctx, u, role, gc.Catalog); err != nil {
		return nil, s.deny(ctx, a, action, target, err)
	}
	if un := gc.Catalog.Unscopable(role); scope != "" && len(un) > 0 {
		return nil, parley.Errorf(parley.CodeInvalid,
			"role %s has permissions that cannot be limited to a department (%v); grant it organisation-wide or use a narrower role", role, un)
	}
	two, err := s.twoPerson(ctx)
	if err != nil {
		return nil, err
	}
	if two && gc.Catalog.IsAdmin(role) {
		return s.request(ctx, a, u, role, scope, reason)
	}
	if err := s.apply(ctx, a, u.ID, role, scope, a.UserID, reason, nil); err != nil {
		return nil, err
	}
	return &parley.GrantOutcome{Granted: true}, nil
}

// HolderCheck, if set, vets the account that is to receive an
// administrator role (Z11: service accounts hold none).
type HolderCheck func(ctx context.Context, u *parley.User, role parley.Role, admin bool) error

// SetHolderCheck installs the account-kind check of the lifecycle service.
func (s *Service) SetHolderCheck(f HolderCheck) { s.holderCheck = f }

func (s *Service) checkHolder(ctx context.Context, u *parley.User, role parley.Role, cat *authz.Catalog) error {
	if s.holderCheck == nil {
		return nil
	}
	return s.holderCheck(ctx, u, role, cat.IsAdmin(role))
}

// apply stores a grant, records it and rotates the target's sessions. The
// separation rules are checked again inside the store's transaction, under
// the lock every role change takes, so two concurrent grants (or a grant
// and a custom-role edit) cannot together hand one person two duties that
// each request alone would not (Z10).
func (s *Service) apply(ctx context.Context, a *parley.Actor, user parley.UserID, role parley.Role, scope parley.DepartmentID, grantedBy parley.UserID, reason string, approve *parley.GrantApproval) error {
	target := grantTarget(user, role, scope)
	g := &parley.RoleGrant{UserID: user, Role: role, Scope: scope, GrantedBy: grantedBy, GrantedAt: s.now()}
	err := s.store.GrantRoleChecked(ctx, g, func(grants map[parley.UserID][]parley.RoleGrant, custom []*parley.CustomRole) error {
		held := grants[user]
		if slices.ContainsFunc(held, func(h parley.RoleGrant) bool { return h.Role == role && h.Scope == scope }) {
			return parley.Errorf(parley.CodeConflict, "the user already holds this role there")
		}
		roles := []parley.Role{role}
		for _, h := range held {
			if !slices.Contains(roles, h.Role) {
				roles = append(roles, h.Role)
			}
		}
		return authz.NewCatalog(custom).CheckRoleSet(roles)
	}, approve)
	if err != nil {
		if c := parley.ErrorCode(err); c == parley.CodeInvalid || c == parley.CodeConflict {
			return s.deny(ctx, a, "role.grant", target, err)
		}
		return err
	}
	if err := s.record(ctx, a, "role.grant", target, parley.ResultSuccess, reason); err != nil {
		// Fail closed (L5): a grant nobody can see in the trail is undone.
		_ = s.store.RevokeRole(ctx, user, role, scope)
		return err
	}
	return s.sessions.EndUserSessions(ctx, user)
}

// request files a two-person grant request.
func (s *Service) request(ctx context.Context, a *parley.Actor, u *parley.User, role parley.Role, scope parley.DepartmentID, reason string) (*parley.GrantOutcome, error) {
	now := s.now()
	r := &parley.GrantRequest{ID: "gr_" + strings.ToLower(rand.Text()[:20]), UserID: u.ID, Role: role, Scope: scope,
		Reason: reason, RequestedBy: a.UserID, RequestedAt: now, ExpiresAt: now.Add(requestTTL), Status: parley.GrantRequestPending}
	if err := s.record(ctx, a, "role.grant_requested", grantTarget(u.ID, role, scope), parley.ResultSuccess,
		"request="+r.ID+" "+reason); err != nil {
		return nil, err
	}
	if err := s.store.CreateGrantRequest(ctx, r); err != nil {
		return nil, err
	}
	return &parley.GrantOutcome{RequestID: r.ID}, nil
}

// Revoke takes a grant away; the target's sessions end at once.
func (s *Service) Revoke(ctx context.Context, a *parley.Actor, user parley.UserID, role parley.Role, scope parley.DepartmentID, reason string) error {
	const action = "role.revoke"
	if err := checkReason(reason); err != nil {
		return err
	}
	u, scope, err := s.target(ctx, user, role, scope)
	if err != nil {
		return err
	}
	target := grantTarget(user, role, scope)
	gc, err := s.sessions.GrantContext(ctx)
	if err != nil {
		return err
	}
	if err := authz.CheckGrantor(a, user, gc); err != nil {
		return s.deny(ctx, a, action, target, err)
	}
	if role == parley.RoleUser {
		return parley.Errorf(parley.CodeInvalid, "the user role cannot be revoked; offboard the account instead")
	}
	if !slices.ContainsFunc(u.Grants, func(g parley.RoleGrant) bool { return g.Role == role && g.Scope == scope }) {
		return parley.Errorf(parley.CodeNotFound, "the user does not hold this role there")
	}
	if err := s.record(ctx, a, action, target, parley.ResultSuccess, reason); err != nil {
		return err
	}
	if err := s.store.RevokeRole(ctx, user, role, scope); err != nil {
		return err
	}
	return s.sessions.EndUserSessions(ctx, user)
}

// GrantRequests lists two-person requests (pending first).
func (s *Service) GrantRequests(ctx context.Context, a *parley.Actor) ([]*parley.GrantRequest, error) {
	if err := authz.Check(a, authz.PermRolesGrant); err != nil {
		return nil, err
	}
	list, err := s.store.ListGrantRequests(ctx, "")
	if err != nil {
		return nil, err
	}
	now := s.now()
	for _, r := range list {
		if r.Status == parley.GrantRequestPending && !now.Before(r.ExpiresAt) {
			r.Status = parley.GrantRequestExpired
		}
	}
	return list, nil
}

// DecideGrantRequest approves or denies a request. The second
// administrator is neither the requester nor the target (Z9); an approval
// re-checks every rule against the state of now, not of the request.
func (s *Service) DecideGrantRequest(ctx context.Context, a *parley.Actor, id string, approve bool) (*parley.GrantOutcome, error) {
	const action = "role.grant_decide"
	if err := authz.Check(a, authz.PermRolesGrant); err != nil {
		return nil, err
	}
	r, err := s.store.GrantRequestByID(ctx, id)
	if err != nil {
		if parley.IsNotFound(err) {
			return nil, parley.Errorf(parley.CodeNotFound, "request not found")
		}
		return nil, err
	}
	target := grantTarget(r.UserID, r.Role, r.Scope)
	if r.Status != parley.GrantRequestPending {
		return nil, parley.Errorf(parley.CodeConflict, "the request was already decided")
	}
	now := s.now()
	if !now.Before(r.ExpiresAt) {
		return nil, parley.Errorf(parley.CodeConflict, "the request expired; file a new one")
	}
	if a.UserID == r.RequestedBy || a.UserID == r.UserID {
		return nil, s.deny(ctx, a, action, target, parley.Errorf(parley.CodeForbidden,
			"two-person rule: the requester and the target cannot decide"))
	}
	if !approve {
		if err := s.store.DecideGrantRequest(ctx, id, parley.GrantRequestDenied, a.UserID, now); err != nil {
			return nil, err
		}
		return &parley.GrantOutcome{RequestID: id}, s.record(ctx, a, action, target, parley.ResultSuccess, "denied request="+id)
	}
	u, _, err := s.target(ctx, r.UserID, r.Role, r.Scope)
	if err != nil {
		return nil, err
	}
	gc, err := s.sessions.GrantContext(ctx)
	if err != nil {
		return nil, err
	}
	// The role set is re-checked by apply, inside the transaction that
	// also marks the request approved.
	if err := s.checkHolder(ctx, u, r.Role, gc.Catalog); err != nil {
		return nil, s.deny(ctx, a, action, target, err)
	}
	// The approval and the grant are one transaction: a grant that fails
	// a rule leaves the request pending, and two approvers cannot both
	// carry it out.
	if err := s.apply(ctx, a, r.UserID, r.Role, r.Scope, r.RequestedBy, "approved request="+id+" "+r.Reason,
		&parley.GrantApproval{RequestID: id, By: a.UserID, At: now}); err != nil {
		return nil, err
	}
	return &parley.GrantOutcome{Granted: true, RequestID: id}, nil
}
