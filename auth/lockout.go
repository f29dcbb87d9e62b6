package auth

import (
	"context"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
)

// Account lockout (A3, A9) without giving attackers a weapon or an oracle.
//
//   - Counted per login name in the database, so every node sees the same
//     count (M7), in addition to the per-IP and per-account token buckets
//     of throttle.go, which slow a single source long before it could
//     lock many accounts (password spraying).
//   - A name with no account is counted and locked exactly like one with an
//     account, with the same queries and the same argon2id work: the lock
//     cannot be used to find out which names exist.
//   - During a lock every attempt, even with the right password, gets the
//     same 401 as a wrong password, after the same argon2id work: the lock
//     stops guessing, and a locked account looks like any other. Failures
//     during a lock are not counted, so an attacker cannot extend it.
//   - The user is told at the next login that passes the password
//     (LoginResult.Notices: account_was_locked). Someone who has the
//     password is, in all likelihood, the user: the lock was the work of
//     someone who did not have it.
//   - An administrator can lift a lock early (UnlockUser, step-up, audited).
//   - The lock does not hold against the right password from a source (IP
//     address) where the user completed a login with every factor in the
//     last 30 days: otherwise anyone who knows an administrator's name
//     could lock them out. Someone at such a source still needs the
//     password (and the second factor), and is throttled like anyone.

// countFailure records a failed password for name and audits a lock it
// causes. It does the same work whether or not an account has the name.
// A store failure is logged, never hidden, and does not change the answer
// (the login has failed already).
func (s *Service) countFailure(ctx context.Context, p parley.PasswordPolicy, name string, u *parley.User, m parley.RequestMeta) {
	now := s.now()
	locked, err := s.store.RecordLoginFailure(ctx, name, now, p.LockoutThreshold, p.LockoutDuration())
	if err != nil {
		s.log.ErrorContext(ctx, "could not count a login failure", "err", err)
		return
	}
	if !locked {
		return
	}
	rec := parley.AuditRecord{ActorName: truncate(name, 64), Action: "auth.lock", SourceIP: m.SourceIP,
		Result: parley.ResultSuccess,
		Reason: "consecutive failures reached " + strconv.Itoa(p.LockoutThreshold) + "; locked until " +
			now.Add(p.LockoutDuration()).UTC().Format(time.RFC3339)}
	if u != nil {
		rec.ActorID, rec.Target = u.ID, string(u.ID)
	} else {
		rec.Reason += " (no account has this name)"
	}
	_ = s.record(ctx, rec)
}

// knownSourceWindow is how long a completed login vouches for its source.
const knownSourceWindow = 30 * 24 * time.Hour

// knownSource reports whether a login with the right password (ok) comes
// from a source where u completed a login recently. It is asked only for
// the right password, so its answer reveals nothing to a guesser.
func (s *Service) knownSource(ctx context.Context, ok bool, u *parley.User, m parley.RequestMeta) (bool, error) {
	if !ok || u == nil || m.SourceIP == "" {
		return false, nil
	}
	return s.store.LoginSourceSince(ctx, u.ID, m.SourceIP, s.now().Add(-knownSourceWindow))
}

// rememberSource records a completed login's source. A failure only costs
// the user the lockout exemption, so it is logged, not returned.
func (s *Service) rememberSource(ctx context.Context, id parley.UserID, m parley.RequestMeta) {
	if m.SourceIP == "" {
		return
	}
	if err := s.store.TouchLoginSource(ctx, id, m.SourceIP, s.now()); err != nil {
		s.log.WarnContext(ctx, "could not record a login source", "err", err)
	}
}
