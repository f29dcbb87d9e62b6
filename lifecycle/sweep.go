package lifecycle

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

// SweepInterval is how often Tick runs the sweep. Login and authentication
// refuse lapsed accounts at once (auth), so the sweep only makes the state
// permanent and visible: an hour is plenty.
const SweepInterval = time.Hour

// sweepBatch bounds the accounts one sweep disables; the rest wait for the
// next.
const sweepBatch = 500

// sparedNoticeEvery is how often the trail is told that the last system
// admin was spared.
const sparedNoticeEvery = 24 * time.Hour

// system is the actor of what the server does by itself.
var system = &parley.Actor{}

// Tick runs the sweep if SweepInterval has passed since the last one;
// cmd/parleyd/node calls it with its other periodic work.
func (s *Service) Tick(ctx context.Context) error {
	s.sweepMu.Lock()
	due := s.lastSweep.IsZero() || s.now().Sub(s.lastSweep) >= SweepInterval || s.now().Before(s.lastSweep)
	s.sweepMu.Unlock()
	if !due {
		return nil
	}
	return s.Sweep(ctx)
}

// Sweep disables the accounts that lapsed (Z11): past their end date
// (audited user.expired) or unused for parley.InactivityLimit (audited
// user.disabled_inactive), ends their sessions, and deletes expired API
// tokens. The last active system admin is spared the inactivity rule
// (parley.SparedFromInactivity), and the trail says so once a day.
func (s *Service) Sweep(ctx context.Context) error {
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	now := s.now()
	s.lastSweep = now
	users, err := s.store.LapsedUsers(ctx, now.Add(-parley.InactivityLimit), now, sweepBatch)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := s.lapse(ctx, u, now); err != nil {
			return err
		}
	}
	if n, err := s.store.DeleteExpiredServiceTokens(ctx, now); err != nil {
		return err
	} else if n > 0 {
		s.log.DebugContext(ctx, "expired service tokens removed", "count", n)
	}
	return nil
}

// lapse disables one lapsed account, recorded first (L5: if the trail
// cannot be written, the account waits for the next sweep; login refuses
// it meanwhile).
func (s *Service) lapse(ctx context.Context, u *parley.User, now time.Time) error {
	action, why := "user.disabled_inactive", "automatic: unused since "+dateText(u.LastUse())
	if u.Expired(now) {
		action, why = "user.expired", "automatic: end date "+dateText(u.EndAt)
	} else {
		spared, err := parley.SparedFromInactivity(ctx, s.store, u)
		if err != nil {
			return err
		}
		if spared {
			if last, ok := s.spared[u.ID]; !ok || now.Sub(last) >= sparedNoticeEvery || now.Before(last) {
				s.spared[u.ID] = now
				s.log.WarnContext(ctx, "the only active system admin is unused for 90 days; not disabled", "user", u.ID)
				_ = s.record(ctx, system, action, string(u.ID), parley.ResultDenied,
					"automatic: unused since "+dateText(u.LastUse())+", but the only active system admin: kept")
			}
			return nil
		}
	}
	if err := s.record(ctx, system, action, string(u.ID), parley.ResultSuccess, why); err != nil {
		return nil
	}
	if err := s.store.DisableUser(ctx, u.ID, now, "", why); err != nil {
		if parley.ErrorCode(err) == parley.CodeConflict || parley.IsNotFound(err) {
			return nil // offboarded or disabled meanwhile
		}
		return err
	}
	if err := s.deps.EndUserSessions(ctx, u.ID); err != nil {
		s.log.WarnContext(ctx, "sessions of a lapsed account not ended", "user", u.ID, "err", err)
	}
	return nil
}
