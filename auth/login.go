package auth

import (
	"context"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// badCredentials is the single answer to a failed login: it never says
// whether the user exists or which factor failed (A9).
func badCredentials() error {
	return parley.Errorf(parley.CodeUnauthenticated, "invalid username or password")
}

// Login checks a username and password. Unknown users cost the same
// argon2id work as known ones, so neither status, body nor timing tells
// them apart (A3, no enumeration).
func (s *Service) Login(ctx context.Context, username, password string, m parley.RequestMeta) (*parley.LoginResult, error) {
	key := strings.ToLower(username)
	if err := s.throttle.allow(m.SourceIP, key); err != nil {
		_ = s.record(ctx, parley.AuditRecord{ActorName: truncate(username, 64), Action: "auth.login",
			SourceIP: m.SourceIP, Result: parley.ResultDenied, Reason: "rate limited"})
		return nil, err
	}
	fail := func(actor parley.UserID, reason string) (*parley.LoginResult, error) {
		s.throttle.failed(m.SourceIP, key)
		_ = s.record(ctx, parley.AuditRecord{ActorID: actor, ActorName: truncate(username, 64),
			Action: "auth.login", SourceIP: m.SourceIP, Result: parley.ResultFailure, Reason: reason})
		return nil, badCredentials()
	}
	if username == "" || password == "" || len(username) > maxUsernameLen || len(password) > maxPasswordLen {
		s.hasher.DummyVerify(ctx, password)
		return fail("", "malformed credentials")
	}
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil && !parley.IsNotFound(err) {
		return nil, err
	}
	if u == nil {
		s.hasher.DummyVerify(ctx, password)
		return fail("", "unknown user")
	}
	ok, rehash, err := s.hasher.Verify(ctx, u.PasswordHash, password)
	if err != nil {
		return nil, parley.Internal("auth.Login", err)
	}
	if !ok {
		return fail(u.ID, "wrong password")
	}
	if u.Status != parley.UserActive {
		return fail(u.ID, "account disabled")
	}
	if rehash {
		// A7: parameters in the hash string changed; upgrade transparently.
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			_ = s.store.SetPasswordHash(ctx, u.ID, h, u.PasswordChangedAt)
		}
	}
	s.throttle.succeeded(key)
	if u.MFAEnrolled {
		issued, err := s.newSession(ctx, u.ID, parley.SessionPendingMFA, time.Time{}, m)
		if err != nil {
			return nil, err
		}
		_ = s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.login_password",
			SourceIP: m.SourceIP, Result: parley.ResultSuccess, Reason: "second factor required"})
		return &parley.LoginResult{MFAToken: issued.Token, Methods: []string{MethodTOTP, MethodRecoveryCode}}, nil
	}
	issued, err := s.newSession(ctx, u.ID, parley.SessionActive, time.Time{}, m)
	if err != nil {
		return nil, err
	}
	_ = s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.login",
		Target: issued.SessionID, SourceIP: m.SourceIP, Result: parley.ResultSuccess})
	return &parley.LoginResult{Issued: issued}, nil
}

// Second-factor methods of /auth/mfa.
const (
	MethodTOTP         = "totp"
	MethodRecoveryCode = "recovery_code"
)

// CompleteMFA finishes a login with a TOTP or recovery code. The pending
// token is single-use: success replaces it with a new session token (A5,
// fixation), and too many wrong codes void it.
func (s *Service) CompleteMFA(ctx context.Context, mfaToken, method, code string, m parley.RequestMeta) (*parley.Issued, error) {
	sess, u, err := s.pendingLogin(ctx, mfaToken, m)
	if err != nil {
		return nil, err
	}
	known, verr := s.verifyCode(ctx, u, method, code)
	if !known {
		return nil, parley.Errorf(parley.CodeInvalid, "method must be one of %v", codeMethods)
	}
	if verr != nil {
		return nil, s.failSecondFactor(ctx, sess, u, method, verr, m)
	}
	return s.finishLogin(ctx, sess, u, method, m)
}
