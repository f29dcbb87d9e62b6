package parley

import (
	"context"
	"time"
)

// LoginLock is the consecutive-failure state of one login name (A3, A9).
// It is keyed by the name as typed (case-insensitively), not by account, so
// that a name with no account is counted and locked exactly like one with
// an account: neither the answer nor the work done tells them apart.
type LoginLock struct {
	Failures      int       // consecutive failures since the last success or lock
	LastFailureAt time.Time // zero if never
	LockedUntil   time.Time // zero or past: not locked
	// NoticePending says a lock happened that the user has not been told
	// of yet; the next successful login tells them (A9).
	NoticePending bool
}

// Locked reports whether the name is locked at now.
func (l *LoginLock) Locked(now time.Time) bool { return now.Before(l.LockedUntil) }

// PasswordStore persists password history and login lockout (identity
// issue). The policy itself is a JSON setting (SettingStore). sqldb
// implements it; its schema is sqldb/migrations/*/0002_password.sql.
type PasswordStore interface {
	// PasswordHistory returns up to limit of the user's previous password
	// hashes (not the current one), newest first.
	PasswordHistory(ctx context.Context, id UserID, limit int) ([]string, error)
	// ChangePassword sets a new hash and change time, moving the current
	// hash into the history and keeping only the newest keep entries there,
	// in one transaction. CodeNotFound for an unknown user.
	ChangePassword(ctx context.Context, id UserID, hash string, changedAt time.Time, keep int) error
	// LoginLock returns the state of a login name; a name never counted
	// has the zero state (not CodeNotFound).
	LoginLock(ctx context.Context, username string) (*LoginLock, error)
	// RecordLoginFailure counts one failure at `at`. When the count reaches
	// threshold it locks the name until at+lockFor, resets the count and
	// sets NoticePending, and returns locked = true; concurrent failures on
	// several nodes lock once.
	RecordLoginFailure(ctx context.Context, username string, at time.Time, threshold int, lockFor time.Duration) (locked bool, err error)
	// ClearLoginFailures resets the count after a success and, if
	// takeNotice, clears NoticePending, returning whether it was set (the
	// caller then tells the user).
	ClearLoginFailures(ctx context.Context, username string, takeNotice bool) (notice bool, err error)
	// UnlockLogin lifts a lock and resets the count, keeping NoticePending
	// so that the user still hears of the lock; wasLocked says whether the
	// name was locked at now.
	UnlockLogin(ctx context.Context, username string, now time.Time) (wasLocked bool, err error)
	// PruneLoginFailures forgets names that are no account's and whose last
	// failure is before `before`, so that sprayed names do not pile up.
	PruneLoginFailures(ctx context.Context, before time.Time) (int, error)
	// TouchLoginSource records that the user completed a login (every
	// factor) from source at `at`.
	TouchLoginSource(ctx context.Context, id UserID, source string, at time.Time) error
	// LoginSourceSince reports whether the user completed a login from
	// source at or after since.
	LoginSourceSince(ctx context.Context, id UserID, source string, since time.Time) (bool, error)
}

// PasswordService is the password feature as the transport sees it
// (package auth).
type PasswordService interface {
	// PasswordPolicy returns the policy in force (security admins, Z10).
	PasswordPolicy(ctx context.Context, a *Actor) (*PasswordPolicy, error)
	// SetPasswordPolicy validates, audits (old → new) and stores p.
	SetPasswordPolicy(ctx context.Context, a *Actor, p *PasswordPolicy) error
	// ChangePassword checks the current password, the policy and the
	// history, stores the new hash and revokes every other session of the
	// user (A5).
	ChangePassword(ctx context.Context, a *Actor, current, next string) error
	// UnlockUser lifts a lockout (A9), audited; an unknown user is
	// CodeNotFound.
	UnlockUser(ctx context.Context, a *Actor, id UserID) error
	// BreachedListSize is the number of entries on the offline list of
	// common and breached passwords, for the policy's readers.
	BreachedListSize() int
}
