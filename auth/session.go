package auth

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
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
	sess, err := s.store.SessionByTokenHash(ctx, crypt.HashToken(token))
	if err != nil {
		if parley.IsNotFound(err) {
			return nil, unauthenticated()
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
	if u.Status != parley.UserActive {
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
	return &parley.Actor{
		UserID: u.ID, Username: u.Username, DepartmentID: u.DepartmentID, Roles: u.Roles,
		SessionID: sess.ID, MFAAt: sess.MFAAt, SourceIP: m.SourceIP, UserAgent: m.UserAgent,
		MFAEnrollmentPending:   mustEnrol,
		PasswordChangeRequired: passwordExpired(pol, u, now),
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
