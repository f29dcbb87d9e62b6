package auth

import (
	"context"

	"github.com/parleyhq/parley"
)

// RequireStepUp answers step_up_required unless the actor used a second
// factor within the step-up window (A6). The client then steps up
// (POST /api/v1/auth/step-up) and retries.
func (s *Service) RequireStepUp(a *parley.Actor) error {
	if a.MFAAt.IsZero() || s.now().Sub(a.MFAAt) > StepUpWindow {
		return parley.Errorf(parley.CodeStepUpRequired, "confirm with a second factor first (POST /api/v1/auth/step-up)")
	}
	return nil
}

// MethodPassword re-verifies the password; step-up accepts it only from a
// user who has no second factor to offer.
const MethodPassword = "password"

// StepUp verifies a fresh factor and replaces the actor's session with one
// that counts as verified now.
func (s *Service) StepUp(ctx context.Context, a *parley.Actor, method, code, password string, m parley.RequestMeta) (*parley.Issued, error) {
	u, err := s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if err := s.throttle.allow(m.SourceIP, "stepup:"+string(u.ID)); err != nil {
		return nil, err
	}
	known, verr := s.verifyCode(ctx, u, method, code)
	switch {
	case known:
	case method == MethodPassword:
		// Any second factor the user has (TOTP, passkey, a confirmed
		// e-mail or phone for codes) must be used instead (A6).
		methods, err := s.secondFactorMethods(ctx, u)
		if err != nil {
			return nil, err
		}
		if len(methods) > 0 {
			return nil, parley.Errorf(parley.CodeInvalid, "use a second factor: a password alone does not step up an account with MFA")
		}
		if len(password) > maxPasswordLen {
			verr = parley.Errorf(parley.CodeUnauthenticated, "invalid credentials")
			break
		}
		ok, _, herr := s.hasher.Verify(ctx, u.PasswordHash, password)
		if herr != nil {
			return nil, parley.Internal("auth.StepUp", herr)
		}
		if !ok {
			verr = parley.Errorf(parley.CodeUnauthenticated, "invalid credentials")
		}
	default:
		return nil, parley.Errorf(parley.CodeInvalid, "method must be one of %v or %q", codeMethods, MethodPassword)
	}
	if verr != nil {
		if parley.ErrorCode(verr) == parley.CodeInternal {
			return nil, verr
		}
		s.throttle.failed(m.SourceIP, "stepup:"+string(u.ID))
		_ = s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.step_up",
			SourceIP: m.SourceIP, Result: parley.ResultFailure, Reason: method + ": " + parley.ErrorMessage(verr)})
		return nil, parley.Errorf(parley.CodeUnauthenticated, "invalid credentials")
	}
	s.throttle.succeeded("stepup:" + string(u.ID))
	return s.finishStepUp(ctx, a, method, m)
}
