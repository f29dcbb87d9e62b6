// Package access is roles and their grants (Z1, Z6, Z9, Z10) and the access
// review (Z8): listing the built-in and custom roles, defining custom roles,
// granting and revoking roles — with step-up, separation of duties, the
// optional two-person rule and session rotation for the target — and the
// report of who holds what, since when, and when they last used it.
//
// The permission table and the rules themselves live in authz; this
// package applies them to stored grants and records every decision.
package access

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// Sessions is what access needs of the auth service (auth.Service).
type Sessions interface {
	Catalog(ctx context.Context) (*authz.Catalog, error)
	InvalidateCatalog()
	// EndUserSessions ends every session of the user at once, WebSockets
	// included: a role change takes effect at once and the next session
	// is a new one (A5).
	EndUserSessions(ctx context.Context, user parley.UserID) error
	GrantContext(ctx context.Context) (authz.GrantContext, error)
}

// Service implements parley.AccessService.
type Service struct {
	store    parley.Store
	audit    parley.Auditor
	sessions Sessions
	now      parley.Clock
	log      *slog.Logger
	// holderCheck vets accounts receiving roles (SetHolderCheck).
	holderCheck HolderCheck

	// used throttles last-use writes: one per (user, role) per
	// useInterval on this node.
	usedMu sync.Mutex
	used   map[useKey]time.Time
}

type useKey struct {
	user parley.UserID
	role parley.Role
}

// useInterval is how often the last use of a grant is written at most: the
// review flags grants unused for 90 days, so an hour is plenty.
const useInterval = time.Hour

// UnusedAfter is how long a grant may go unused before the review flags
// it (Z8, checklist: 90 days).
const UnusedAfter = 90 * 24 * time.Hour

// New returns a Service.
func New(store parley.Store, auditor parley.Auditor, sessions Sessions, now parley.Clock, log *slog.Logger) *Service {
	return &Service{store: store, audit: auditor, sessions: sessions, now: now, log: log, used: map[useKey]time.Time{}}
}

var _ parley.AccessService = (*Service)(nil)

// record writes an audit record; a role change must not happen unrecorded,
// so callers that change something refuse when it fails (L5).
func (s *Service) record(ctx context.Context, a *parley.Actor, action, target, result, reason string) error {
	err := s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: action,
		Target: target, SourceIP: a.SourceIP, Result: result, Reason: reason})
	if err != nil {
		s.log.ErrorContext(ctx, "audit record not written", "action", action, "err", err)
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	return nil
}

// deny audits a refusal and returns err (every denial is audited).
func (s *Service) deny(ctx context.Context, a *parley.Actor, action, target string, err error) error {
	_ = s.record(ctx, a, action, target, parley.ResultDenied, parley.ErrorMessage(err))
	return err
}

// NoteUse records that a just used perm through one of its roles. Only
// permissions beyond the "user" role are tracked: those are what a review
// looks at.
func (s *Service) NoteUse(ctx context.Context, a *parley.Actor, perm string) {
	p := authz.Permission(perm)
	if authz.Allowed([]parley.Role{parley.RoleUser}, p) || len(a.Roles) < 2 {
		return
	}
	cat, err := s.sessions.Catalog(ctx)
	if err != nil {
		return
	}
	now := s.now()
	for _, r := range a.Roles {
		if r == parley.RoleUser || cat.RoleBits(r)&authz.Bits(p) == 0 {
			continue
		}
		k := useKey{a.UserID, r}
		s.usedMu.Lock()
		last, seen := s.used[k]
		fresh := seen && now.Sub(last) < useInterval && !now.Before(last)
		if !fresh {
			s.used[k] = now
		}
		s.usedMu.Unlock()
		if fresh {
			continue
		}
		if err := s.store.TouchGrants(ctx, a.UserID, r, now); err != nil {
			s.log.WarnContext(ctx, "grant last use not recorded", "err", err)
		}
	}
}
