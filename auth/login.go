package auth

import (
	"context"
	"slices"
	"strconv"
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
	pol, err := s.passwordPolicy(ctx)
	if err != nil {
		return nil, err
	}
	// The lock state is read for every name, known or not, and a failure
	// is counted for every name alike (lockout.go): same queries, same
	// argon2id work, same answer.
	lock, err := s.store.LoginLock(ctx, username)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil && !parley.IsNotFound(err) {
		return nil, err
	}
	ok, rehash := false, false
	var uid parley.UserID
	if u == nil {
		s.hasher.DummyVerify(ctx, password)
	} else {
		uid = u.ID
		if ok, rehash, err = s.hasher.Verify(ctx, u.PasswordHash, password); err != nil {
			return nil, parley.Internal("auth.Login", err)
		}
	}
	if u != nil && u.IsService() {
		// Z11: a service account never logs in interactively, whatever
		// the password; it uses API tokens. Answered and counted exactly
		// like a wrong password, audited as what it is.
		s.countFailure(ctx, pol, username, u, m)
		s.throttle.failed(m.SourceIP, key)
		_ = s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: truncate(username, 64), Action: "auth.login",
			Target: string(u.ID), SourceIP: m.SourceIP, Result: parley.ResultDenied, Reason: "service account"})
		return nil, badCredentials()
	}
	if lock.Locked(s.now()) {
		// A3/A9: locked, whatever the password; answered like a wrong one
		// — except for the right password from a source where the user
		// recently completed a login (every factor): a lock triggered by
		// someone who only knows the name does not shut its owner out.
		known, err := s.knownSource(ctx, ok, u, m)
		if err != nil {
			return nil, err
		}
		if !known {
			return fail(uid, "account locked")
		}
		_ = s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.lock_bypass",
			Target: string(u.ID), SourceIP: m.SourceIP, Result: parley.ResultSuccess,
			Reason: "locked account, right password from a source of a recent complete login"})
	}
	if !ok {
		s.countFailure(ctx, pol, username, u, m)
		if u == nil {
			return fail("", "unknown user")
		}
		return fail(u.ID, "wrong password")
	}
	if u.Status != parley.UserActive {
		return fail(u.ID, "account disabled")
	}
	// Z11: the end date and the inactivity rule hold here at once; the
	// periodic sweep (lifecycle) then disables such accounts for good.
	if now := s.now(); u.Expired(now) {
		return fail(u.ID, "account expired on its end date")
	} else if u.Inactive(now) {
		spared, err := parley.SparedFromInactivity(ctx, s.store, u)
		if err != nil {
			return nil, err
		}
		if !spared {
			return fail(u.ID, "account unused for 90 days")
		}
	}
	if rehash {
		// A7: parameters in the hash string changed; upgrade transparently.
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			_ = s.store.SetPasswordHash(ctx, u.ID, h, u.PasswordChangedAt)
		}
	}
	s.throttle.succeeded(key)
	notices, err := s.loginNotices(ctx, pol, u, lock, m)
	if err != nil {
		return nil, err
	}
	methods, err := s.secondFactorMethods(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(methods) > 0 {
		issued, err := s.newSession(ctx, u.ID, parley.SessionPendingMFA, time.Time{}, m)
		if err != nil {
			return nil, err
		}
		_ = s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.login_password",
			SourceIP: m.SourceIP, Result: parley.ResultSuccess, Reason: "second factor required"})
		return &parley.LoginResult{MFAToken: issued.Token, Methods: methods, Notices: notices}, nil
	}
	issued, err := s.newSession(ctx, u.ID, parley.SessionActive, time.Time{}, m)
	if err != nil {
		return nil, err
	}
	s.rememberSource(ctx, u.ID, m)
	s.noteLogin(ctx, u.ID)
	_ = s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.login",
		Target: issued.SessionID, SourceIP: m.SourceIP, Result: parley.ResultSuccess})
	return &parley.LoginResult{Issued: issued, Notices: notices}, nil
}

// loginNotices resets the failure count after a login that passed the
// password and says what the user must be told (A9, A3): that the account
// was locked since their last login, and that their password has expired
// (the session may then only change it). Both are audited.
func (s *Service) loginNotices(ctx context.Context, p parley.PasswordPolicy, u *parley.User, lock *parley.LoginLock, m parley.RequestMeta) ([]string, error) {
	var notices []string
	if lock.Failures > 0 || lock.NoticePending {
		told, err := s.store.ClearLoginFailures(ctx, u.Username, true)
		if err != nil {
			return nil, err
		}
		if told {
			notices = append(notices, parley.NoticeAccountWasLocked)
		}
	}
	if mustChangePassword(p, u, s.now()) {
		notices = append(notices, parley.NoticePasswordExpired)
		reason := "password older than " + strconv.Itoa(p.MaxAgeDays) + " days; session limited to changing it"
		if u.PasswordChangedAt.IsZero() {
			reason = "password set by an administrator at reactivation; session limited to changing it"
		}
		_ = s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.password_expired",
			Target: string(u.ID), SourceIP: m.SourceIP, Result: parley.ResultSuccess, Reason: reason})
	}
	return notices, nil
}

// noteLogin records a complete login for the inactivity rule (Z11). A
// failure costs only the record: the login stands.
func (s *Service) noteLogin(ctx context.Context, id parley.UserID) {
	if err := s.store.TouchLastLogin(ctx, id, s.now()); err != nil {
		s.log.WarnContext(ctx, "could not record a login", "err", err)
	}
}

// secondFactorMethods lists the second factors u can finish a login with
// (A1); none means the password alone signs u in. Asked only after the
// password verified, so it costs unknown and known users nothing unequal.
func (s *Service) secondFactorMethods(ctx context.Context, u *parley.User) ([]string, error) {
	var methods []string
	if u.MFAEnrolled {
		methods = append(methods, MethodTOTP, MethodRecoveryCode)
	}
	passkey, err := s.hasPasskey(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if passkey {
		methods = append(methods, MethodWebAuthn)
	}
	// One-time codes by e-mail/SMS for users whom policy does not require
	// a cryptographic factor, and push approval (otp.go, push.go; A10).
	extra, err := s.otp.loginMethods(ctx, u, methods)
	if err != nil {
		return nil, err
	}
	return append(methods, extra...), nil
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
	if !known { // an e-mail or SMS code (otp.go)
		known, verr = s.otp.verifyLoginCode(ctx, sess, u, method, code)
	}
	if !known {
		return nil, parley.Errorf(parley.CodeInvalid, "method must be one of %v", append(slices.Clone(codeMethods), otpMethods...))
	}
	if verr != nil {
		return nil, s.failSecondFactor(ctx, sess, u, method, verr, m)
	}
	return s.finishLogin(ctx, sess, u, method, m)
}
