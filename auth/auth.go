// Package auth is the front door: first-start setup (A4), login with
// password and second factor (A1, A9), TOTP enrolment with replay protection
// and recovery codes, server-side sessions with idle and absolute expiry
// (A5), password policy (A3) and credential storage (A7).
//
// It owns accounts' credentials, so account creation lives here too. The
// full identity issue (lockout, passkeys, push, one-time codes, step-up)
// extends this package; the seams are Policy, the throttle and the session
// stages.
package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crypt"
)

// Config holds the session and login rules. Defaults are the checklist's
// values (REQUIREMENTS.md A5, A9).
type Config struct {
	IdleTimeout      time.Duration // A5: 15 minutes
	AbsoluteLifetime time.Duration // A5: 12 hours
	PendingMFATTL    time.Duration // A9: 5 minutes
	MaxMFAAttempts   int           // failed codes before a pending login is void
	TOTPIssuer       string
	// TouchInterval bounds how often user activity is written back to a
	// session: an idle deadline is then exact to within this interval.
	TouchInterval time.Duration
	SetupTokenTTL time.Duration
	// AfterSetup runs once setup succeeded (serve removes the token file).
	AfterSetup func()
	// WebAuthnRPID is the passkey relying-party ID, the host name passkeys
	// are bound to ("localhost" if empty); WebAuthnOrigins are the https
	// origins the browser may report, each on that host or under it (A1).
	// NewWebAuthn refuses an empty origin list; cmd/parleyd/node fills both.
	WebAuthnRPID    string
	WebAuthnOrigins []string
}

// DefaultConfig returns the checklist defaults.
func DefaultConfig() Config {
	return Config{
		IdleTimeout:      15 * time.Minute,
		AbsoluteLifetime: 12 * time.Hour,
		PendingMFATTL:    5 * time.Minute,
		MaxMFAAttempts:   5,
		TOTPIssuer:       "Parley",
		TouchInterval:    30 * time.Second,
		SetupTokenTTL:    24 * time.Hour,
	}
}

// Service implements authentication. It is safe for concurrent use.
type Service struct {
	store    parley.Store
	keys     parley.KeyProvider
	hasher   *crypt.PasswordHasher
	audit    parley.Auditor
	now      parley.Clock
	log      *slog.Logger
	cfg      Config
	pwPolicy passwordPolicyCache // A3: data in the database (password.go)
	throttle *throttle
	mfa      mfaCache
	catalog  catalogCache // custom roles (catalog.go)
	boot     bootstrap
	// otp offers one-time codes and push approval at login (otp.go); nil
	// until NewOTP, and then neither is offered.
	otp *OTP
	// SessionEnded, if set, is told of sessions that ended (logout,
	// rotation) so that open WebSockets on them close at once (A5).
	SessionEnded func(ids []string)
}

// New returns a Service.
func New(store parley.Store, keys parley.KeyProvider, hasher *crypt.PasswordHasher,
	auditor parley.Auditor, now parley.Clock, log *slog.Logger, cfg Config) *Service {
	return &Service{
		store: store, keys: keys, hasher: hasher, audit: auditor, now: now, log: log, cfg: cfg,
		throttle: newThrottle(now),
	}
}

// record writes an audit record, logging (never hiding) a failure.
func (s *Service) record(ctx context.Context, rec parley.AuditRecord) error {
	err := s.audit.Record(ctx, rec)
	if err != nil {
		s.log.ErrorContext(ctx, "audit record not written", "action", rec.Action, "err", err)
	}
	return err
}

func (s *Service) newSession(ctx context.Context, userID parley.UserID, stage parley.SessionStage,
	mfaAt time.Time, m parley.RequestMeta) (*parley.Issued, error) {
	now := s.now()
	token, hash := crypt.NewToken()
	ttl := s.cfg.AbsoluteLifetime
	if stage == parley.SessionPendingMFA {
		ttl = s.cfg.PendingMFATTL
	}
	id, _ := crypt.NewToken() // a separate random handle; not the secret
	sess := &parley.Session{
		ID: "s_" + id[:22], TokenHash: hash, UserID: userID, Stage: stage,
		CreatedAt: now, LastActiveAt: now, ExpiresAt: now.Add(ttl), MFAAt: mfaAt,
		SourceIP: m.SourceIP, UserAgent: truncate(m.UserAgent, 256),
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	return &parley.Issued{Token: token, ExpiresAt: sess.ExpiresAt, SessionID: sess.ID}, nil
}

func (s *Service) endSessions(ids ...string) {
	if s.SessionEnded != nil && len(ids) > 0 {
		s.SessionEnded(ids)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

var _ parley.AuthService = (*Service)(nil)
