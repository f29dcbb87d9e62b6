package auth

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/crypt"
)

// unauthenticated is the one answer to every bad token, so that a caller
// learns nothing about why (expired, revoked, unknown).
func unauthenticated() error {
	return parley.Errorf(parley.CodeUnauthenticated, "missing, invalid or expired session")
}

// Authenticate resolves a bearer token to its actor. userAction says whether
// the request is something the user did (it then counts as activity for the
// idle timeout, A5); background traffic such as WebSocket pings and
// revalidation does not.
func (s *Service) Authenticate(ctx context.Context, token string, m parley.RequestMeta, userAction bool) (*parley.Actor, error) {
	if token == "" || len(token) > 128 {
		return nil, unauthenticated()
	}
	hash := crypt.HashToken(token)
	sess, err := s.store.SessionByTokenHash(ctx, hash)
	if err != nil {
		if parley.IsNotFound(err) {
			// Not a session: perhaps a service account's API token (Z11).
			return s.serviceTokenActor(ctx, hash, m)
		}
		return nil, err
	}
	now := s.now()
	if sess.Stage != parley.SessionActive {
		// A pre-MFA token proves only the password; it opens nothing but
		// the MFA step (A9).
		return nil, unauthenticated()
	}
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastActiveAt) >= s.cfg.IdleTimeout {
		_ = s.store.DeleteSession(ctx, sess.ID)
		s.endSessions(sess.ID)
		return nil, unauthenticated()
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if err != nil {
		if parley.IsNotFound(err) {
			return nil, unauthenticated()
		}
		return nil, err
	}
	// Z11: an account past its end date is refused at once, before the
	// sweep disables it; a service account has no sessions.
	if u.Status != parley.UserActive || u.Expired(now) || u.IsService() {
		return nil, unauthenticated()
	}
	if userAction && now.Sub(sess.LastActiveAt) >= s.cfg.TouchInterval {
		if err := s.store.TouchSession(ctx, sess.ID, now); err != nil {
			return nil, err
		}
	}
	pol, err := s.passwordPolicy(ctx)
	if err != nil {
		return nil, err
	}
	mustEnrol := false
	if !u.MFAEnrolled {
		if mustEnrol, err = s.mfaRequired(ctx, u); err != nil {
			return nil, err
		}
		// mlps3 (A10): MFA for every user, so the enrolment gate holds
		// everyone without a second factor.
		mustEnrol = mustEnrol || pol.MFAForAll
		// A passkey is a second factor too (A1); asked only of users the
		// gate would hold, so nobody else pays the query.
		if mustEnrol {
			has, err := s.hasPasskey(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			mustEnrol = !has
		}
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	perms := cat.Resolve(u.Grants)
	boot, err := s.bootstrapPerms(ctx, u)
	if err != nil {
		return nil, err
	}
	perms = append(perms, boot...)
	return &parley.Actor{
		UserID: u.ID, Username: u.Username, DepartmentID: u.DepartmentID, Roles: u.Roles,
		Perms:     perms,
		SessionID: sess.ID, MFAAt: sess.MFAAt, SourceIP: m.SourceIP, UserAgent: m.UserAgent,
		MFAEnrollmentPending:   mustEnrol,
		PasswordChangeRequired: mustChangePassword(pol, u, now),
	}, nil
}

// mustChangePassword reports whether u's sessions may only change the
// password (A3): it expired under the policy, or an administrator set it
// when reactivating the account (Z8: its change time is zero), which holds
// under every profile.
func mustChangePassword(p parley.PasswordPolicy, u *parley.User, now time.Time) bool {
	return passwordExpired(p, u, now) || u.PasswordChangedAt.IsZero()
}

// serviceTokenWithheld are the permissions a service token never carries:
// its own account's self-service (me, sessions, push approval, step-up)
// and credentials (password, second factors, enrolment). A token acts for
// a machine through the "user" role's business permissions only (Z11).
var serviceTokenWithheld = authz.Bits(authz.PermSelf, authz.PermCredentials)

// serviceTokenActor authenticates a service account's API token (Z11):
// like a session, with an absolute expiry and no idle timeout. The token is
// the account's one credential, so neither the MFA enrolment gate nor the
// password-change gate holds it; its SessionID is the token's ID, so that
// revoking the token closes the WebSockets opened with it. Every refusal
// is the same unauthenticated answer as for a bad session.
func (s *Service) serviceTokenActor(ctx context.Context, hash []byte, m parley.RequestMeta) (*parley.Actor, error) {
	st, err := s.store.ServiceTokenByHash(ctx, hash)
	if err != nil {
		if parley.IsNotFound(err) {
			return nil, unauthenticated()
		}
		return nil, err
	}
	now := s.now()
	if !now.Before(st.ExpiresAt) { // the lifecycle sweep deletes it
		return nil, unauthenticated()
	}
	u, err := s.store.UserByID(ctx, st.UserID)
	if err != nil {
		if parley.IsNotFound(err) {
			return nil, unauthenticated()
		}
		return nil, err
	}
	if u.Status != parley.UserActive || !u.IsService() || u.Expired(now) || u.Inactive(now) {
		return nil, unauthenticated()
	}
	if now.Sub(st.LastUsedAt) >= s.cfg.TouchInterval {
		if err := s.store.TouchServiceToken(ctx, st.ID, u.ID, now); err != nil {
			return nil, err
		}
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	perms := cat.Resolve(u.Grants)
	for i := range perms {
		perms[i].Bits &^= serviceTokenWithheld
	}
	return &parley.Actor{
		UserID: u.ID, Username: u.Username, DepartmentID: u.DepartmentID, Roles: u.Roles, Perms: perms,
		SessionID: st.ID, SourceIP: m.SourceIP, UserAgent: m.UserAgent,
	}, nil
}

// Logout ends the actor's session at once, on REST and WebSocket alike.
func (s *Service) Logout(ctx context.Context, a *parley.Actor) error {
	if err := s.store.DeleteSession(ctx, a.SessionID); err != nil && !parley.IsNotFound(err) {
		return err
	}
	s.endSessions(a.SessionID)
	_ = s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.logout",
		Target: a.SessionID, SourceIP: a.SourceIP, Result: parley.ResultSuccess})
	return nil
}

// Sessions lists the actor's sessions.
func (s *Service) Sessions(ctx context.Context, a *parley.Actor) ([]*parley.Session, error) {
	return s.store.ListUserSessions(ctx, a.UserID)
}

// RevokeSession ends one of the actor's own sessions. Another user's session
// ID is not_found, never forbidden (Z6).
func (s *Service) RevokeSession(ctx context.Context, a *parley.Actor, id string) error {
	list, err := s.store.ListUserSessions(ctx, a.UserID)
	if err != nil {
		return err
	}
	for _, sess := range list {
		if sess.ID == id {
			if err := s.store.DeleteSession(ctx, id); err != nil {
				return err
			}
			s.endSessions(id)
			_ = s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username,
				Action: "auth.session_revoke", Target: id, SourceIP: a.SourceIP, Result: parley.ResultSuccess})
			return nil
		}
	}
	return parley.Errorf(parley.CodeNotFound, "session not found")
}

// ExpireSessions deletes sessions past their absolute or idle expiry.
func (s *Service) ExpireSessions(ctx context.Context) (int, error) {
	now := s.now()
	// Forget lockout counters of names that are no account's (sprayed
	// names) a day after their last failure (lockout.go).
	if _, err := s.store.PruneLoginFailures(ctx, now.Add(-24*time.Hour)); err != nil {
		s.log.WarnContext(ctx, "pruning login failures failed", "err", err)
	}
	return s.store.DeleteExpiredSessions(ctx, now, now.Add(-s.cfg.IdleTimeout))
}
