package auth

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crypt"
)

// The pieces every second factor shares (TOTP, recovery codes, passkeys,
// push approval, one-time codes): resolving a pending login, failing it
// uniformly, finishing it, and step-up of an existing session.

// pendingLogin resolves an mfa_token to its pending session and user. A
// pending login lives 5 minutes (A9); an expired or unknown one gets the
// same answer as a wrong code.
func (s *Service) pendingLogin(ctx context.Context, mfaToken string, m parley.RequestMeta) (*parley.Session, *parley.User, error) {
	if mfaToken == "" || len(mfaToken) > 128 {
		return nil, nil, badCredentials()
	}
	sess, err := s.store.SessionByTokenHash(ctx, crypt.HashToken(mfaToken))
	if err != nil {
		if parley.IsNotFound(err) {
			return nil, nil, badCredentials()
		}
		return nil, nil, err
	}
	if sess.Stage != parley.SessionPendingMFA || !s.now().Before(sess.ExpiresAt) {
		if sess.Stage == parley.SessionPendingMFA {
			_ = s.store.DeleteSession(ctx, sess.ID)
		}
		return nil, nil, badCredentials()
	}
	if err := s.throttle.allow(m.SourceIP, "mfa:"+string(sess.UserID)); err != nil {
		return nil, nil, err
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if err != nil || u.Status != parley.UserActive {
		return nil, nil, badCredentials()
	}
	return sess, u, nil
}

// failSecondFactor counts a failed factor against the pending login (voiding
// it after MaxMFAAttempts), audits the failure with its real reason, and
// returns the one answer the caller sees: it never says which factor or why
// (A9).
func (s *Service) failSecondFactor(ctx context.Context, sess *parley.Session, u *parley.User, method string, verr error, m parley.RequestMeta) error {
	if parley.ErrorCode(verr) == parley.CodeInternal {
		return verr
	}
	s.throttle.failed(m.SourceIP, "mfa:"+string(u.ID))
	n, _ := s.store.IncrementSessionAttempts(ctx, sess.ID)
	if n >= s.cfg.MaxMFAAttempts {
		_ = s.store.DeleteSession(ctx, sess.ID)
	}
	_ = s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.mfa",
		SourceIP: m.SourceIP, Result: parley.ResultFailure, Reason: method + ": " + parley.ErrorMessage(verr)})
	return parley.Errorf(parley.CodeUnauthenticated, "invalid code")
}

// finishLogin replaces a pending login by a full session, MFA-verified now.
func (s *Service) finishLogin(ctx context.Context, sess *parley.Session, u *parley.User, method string, m parley.RequestMeta) (*parley.Issued, error) {
	if err := s.store.DeleteSession(ctx, sess.ID); err != nil {
		if parley.IsNotFound(err) {
			return nil, badCredentials() // a concurrent attempt used it first
		}
		return nil, err
	}
	issued, err := s.newSession(ctx, u.ID, parley.SessionActive, s.now(), m)
	if err != nil {
		return nil, err
	}
	s.throttle.succeeded("mfa:" + string(u.ID))
	s.rememberSource(ctx, u.ID, m)
	s.noteLogin(ctx, u.ID) // Z11 inactivity (login.go)
	_ = s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.login",
		Target: issued.SessionID, SourceIP: m.SourceIP, Result: parley.ResultSuccess, Reason: "mfa " + method})
	return issued, nil
}

// StepUpWindow is how long a second factor counts as fresh for sensitive
// operations (A6).
const StepUpWindow = 5 * time.Minute

// finishStepUp marks the actor's session as freshly verified by replacing
// it: a step-up is a privilege change, so the session ID changes (A5).
func (s *Service) finishStepUp(ctx context.Context, a *parley.Actor, method string, m parley.RequestMeta) (*parley.Issued, error) {
	if err := s.store.DeleteSession(ctx, a.SessionID); err != nil && !parley.IsNotFound(err) {
		return nil, err
	}
	s.endSessions(a.SessionID)
	issued, err := s.newSession(ctx, a.UserID, parley.SessionActive, s.now(), m)
	if err != nil {
		return nil, err
	}
	_ = s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.step_up",
		Target: issued.SessionID, SourceIP: m.SourceIP, Result: parley.ResultSuccess, Reason: method})
	return issued, nil
}

// codeMethods are the second factors proven by a typed code, accepted alike
// by /auth/mfa and step-up. Ceremonies (passkeys, push) have their own
// routes and end in finishLogin or finishStepUp too.
var codeMethods = []string{MethodTOTP, MethodRecoveryCode}

// verifyCode checks a code-based factor. known is false for a method that
// is not a code method; err is a failure to be reported uniformly.
func (s *Service) verifyCode(ctx context.Context, u *parley.User, method, code string) (known bool, err error) {
	switch method {
	case MethodTOTP:
		return true, s.checkTOTP(ctx, u, code)
	case MethodRecoveryCode:
		return true, s.useRecoveryCode(ctx, u, code)
	}
	return false, nil
}

// hasCryptoFactor reports whether u has a cryptographic second factor:
// confirmed TOTP or a passkey (A10). One-time codes by e-mail or SMS are
// not such a factor.
func (s *Service) hasCryptoFactor(ctx context.Context, u *parley.User) (bool, error) {
	if u.MFAEnrolled {
		return true, nil
	}
	return s.hasPasskey(ctx, u.ID)
}
