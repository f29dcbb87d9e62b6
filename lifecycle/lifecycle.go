// Package lifecycle is the life of an account after its creation (Z8, Z11):
// offboarding a leaver at once — disabled, sessions and WebSockets ended,
// tokens, roles and device keys removed, out of every conversation with
// their groups handed on — and reactivating an account explicitly; service
// accounts and their API tokens; end dates; and the sweep that disables
// accounts unused for 90 days or past their end date.
//
// Every operation is the system admin's (authz.PermUsersManage, a sensitive
// permission: the router demands step-up), is refused for the caller's own
// account, and is audited before it takes effect (L5: no trail, no change).
// The checks that must hold between sweeps (end date, inactivity, service
// accounts never logging in) live in auth, on the login and authentication
// paths.
package lifecycle

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// Deps are what the service needs of the others, wired by cmd/parleyd/node.
// EndUserSessions and PasswordHash are required; the others may be nil
// (tests of the bare service).
type Deps struct {
	// EndUserSessions ends every session of the user at once, WebSockets
	// included (auth.Service.EndUserSessions).
	EndUserSessions func(ctx context.Context, user parley.UserID) error
	// EndSessions closes the WebSockets opened with these session or
	// token IDs (what auth.Service.SessionEnded points to).
	EndSessions func(ids []string)
	// PasswordHash checks a password an administrator sets at
	// reactivation against the policy and history and hashes it
	// (auth.Service.AdminPasswordHash).
	PasswordHash func(ctx context.Context, u *parley.User, password string) (string, error)
	// ConversationChanged tells the message path that a conversation's
	// members changed, so it drops what it cached (chat.Service.Invalidate).
	ConversationChanged func(id parley.ConversationID)
	// MemberRemoved, if set, is called instead of ConversationChanged for
	// each conversation the leaver was removed from: it also tells the
	// remaining members (a member_removed WebSocket frame).
	MemberRemoved func(ctx context.Context, id parley.ConversationID, user parley.UserID)
}

// Service implements parley.LifecycleService and the sweep. It is safe for
// concurrent use.
type Service struct {
	store parley.Store
	audit parley.Auditor
	now   parley.Clock
	log   *slog.Logger
	deps  Deps

	sweepMu   sync.Mutex
	lastSweep time.Time
	// spared remembers when the sweep last reported sparing an account
	// (the last system admin), so that the trail says it once a day.
	spared map[parley.UserID]time.Time
}

// New returns a Service.
func New(store parley.Store, auditor parley.Auditor, now parley.Clock, log *slog.Logger, deps Deps) *Service {
	return &Service{store: store, audit: auditor, now: now, log: log, deps: deps, spared: map[parley.UserID]time.Time{}}
}

var _ parley.LifecycleService = (*Service)(nil)

// Limits.
const (
	// MaxTokensPerAccount bounds the API tokens of one service account.
	MaxTokensPerAccount = 10
	maxReasonLen        = 256 // characters of a stated reason
	maxTokenNameLen     = 64
)

// record writes an audit record as the actor; a change must not happen
// unrecorded, so callers that change something refuse when it fails (L5).
func (s *Service) record(ctx context.Context, a *parley.Actor, action, target, result, reason string) error {
	err := s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: action,
		Target: target, SourceIP: a.SourceIP, Result: result, Reason: reason})
	if err != nil {
		s.log.ErrorContext(ctx, "audit record not written", "action", action, "err", err)
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	return nil
}

// deny audits a refusal and returns err (every denial is audited, L1).
func (s *Service) deny(ctx context.Context, a *parley.Actor, action, target string, err error) error {
	_ = s.record(ctx, a, action, target, parley.ResultDenied, parley.ErrorMessage(err))
	return err
}

// target loads the account an administrator acts on. Acting on one's own
// account is refused (forbidden, audited): nobody offboards, reactivates or
// dates themselves, nor issues themselves tokens (Z9 in spirit). An unknown
// ID is not_found.
func (s *Service) target(ctx context.Context, a *parley.Actor, action string, id parley.UserID) (*parley.User, error) {
	if err := authz.Check(a, authz.PermUsersManage); err != nil {
		return nil, s.deny(ctx, a, action, string(id), err)
	}
	if id == a.UserID {
		return nil, s.deny(ctx, a, action, string(id), parley.Errorf(parley.CodeForbidden, "you cannot do this to your own account"))
	}
	u, err := s.store.UserByID(ctx, id)
	if parley.IsNotFound(err) {
		return nil, parley.Errorf(parley.CodeNotFound, "user not found")
	}
	return u, err
}

// cleanReason checks a reason an administrator states.
func cleanReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > maxReasonLen || !parley.CleanText(reason) {
		return "", parley.Errorf(parley.CodeInvalid, "reason must be at most %d printable characters", maxReasonLen)
	}
	return reason, nil
}

// Account returns the account with its lifecycle state.
func (s *Service) Account(ctx context.Context, a *parley.Actor, id parley.UserID) (*parley.User, error) {
	if err := authz.Check(a, authz.PermUsersManage); err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, id)
	if parley.IsNotFound(err) {
		return nil, parley.Errorf(parley.CodeNotFound, "user not found")
	}
	return u, err
}

// SetEndDate sets the date on which the account expires (Z11), or clears
// it (zero). A date must lie in the future: an account is disabled now by
// offboarding, not by a date in the past.
func (s *Service) SetEndDate(ctx context.Context, a *parley.Actor, id parley.UserID, end time.Time) (*parley.User, error) {
	const action = "user.end_date"
	u, err := s.target(ctx, a, action, id)
	if err != nil {
		return nil, err
	}
	if !end.IsZero() && !end.After(s.now()) {
		return nil, parley.Errorf(parley.CodeInvalid, "end_date must be in the future")
	}
	if err := s.record(ctx, a, action, string(id), parley.ResultSuccess, dateText(u.EndAt)+" → "+dateText(end)); err != nil {
		return nil, err
	}
	if err := s.store.SetUserEndDate(ctx, id, end); err != nil {
		return nil, err
	}
	u.EndAt = end
	return u, nil
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}

// CheckHolder vets an account that is to receive a role (Z11): a service
// account holds no administrator role, whoever grants it. It has the shape
// of access.HolderCheck; admin says whether the role carries anything
// beyond the "user" role (authz.Catalog.IsAdmin).
func (s *Service) CheckHolder(_ context.Context, u *parley.User, role parley.Role, admin bool) error {
	if admin && u.IsService() {
		return parley.Errorf(parley.CodeForbidden, "a service account cannot hold the administrator role %s", role)
	}
	return nil
}
