package access

import (
	"context"
	"slices"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// AccessReview reports every user's grants with who granted them, when,
// and when they were last used, and flags what a reviewer must look at:
// grants beyond "user" unused for 90 days, and disabled accounts that still
// hold more than "user" (Z8). Reading it is audited.
func (s *Service) AccessReview(ctx context.Context, a *parley.Actor) (*parley.AccessReview, error) {
	if err := authz.Check(a, authz.PermAccessReview); err != nil {
		return nil, err
	}
	now := s.now()
	users, err := s.store.ListUsers(ctx, "", 1<<30)
	if err != nil {
		return nil, err
	}
	rep := &parley.AccessReview{GeneratedAt: now}
	for _, u := range users {
		e := &parley.AccessReviewEntry{User: u, Grants: u.Grants}
		extra := false
		for _, g := range u.Grants {
			if g.Role == parley.RoleUser {
				continue
			}
			extra = true
			last := g.LastUsedAt
			if last.IsZero() {
				last = g.GrantedAt
			}
			if now.Sub(last) >= UnusedAfter {
				e.Flags = append(e.Flags, "unused_90d:"+grantLabel(g))
			}
		}
		if extra && u.Status != parley.UserActive {
			e.Flags = append(e.Flags, "leaver_with_access")
		}
		rep.Entries = append(rep.Entries, e)
	}
	if err := s.record(ctx, a, "access_review.read", "", parley.ResultSuccess, ""); err != nil {
		return nil, err
	}
	return rep, nil
}

func grantLabel(g parley.RoleGrant) string {
	l := string(g.Role)
	if g.Scope != "" {
		l += "@" + string(g.Scope)
	}
	return l
}

// ConfirmReview records that a reviewer keeps a grant (revoking goes
// through Revoke, which a security_admin does). The decision is an audit
// record: the trail is the review's evidence.
func (s *Service) ConfirmReview(ctx context.Context, a *parley.Actor, user parley.UserID, role parley.Role, scope parley.DepartmentID, note string) error {
	if err := authz.Check(a, authz.PermAccessReview); err != nil {
		return err
	}
	if err := checkReason(note); err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, user)
	if err != nil {
		if parley.IsNotFound(err) {
			return parley.Errorf(parley.CodeNotFound, "user not found")
		}
		return err
	}
	if !slices.ContainsFunc(u.Grants, func(g parley.RoleGrant) bool { return g.Role == role && g.Scope == scope }) {
		return parley.Errorf(parley.CodeNotFound, "the user does not hold this role there")
	}
	return s.record(ctx, a, "access_review.confirm", grantTarget(user, role, scope), parley.ResultSuccess, note)
}
