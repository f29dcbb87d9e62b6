// Package supervision is supervised access for department admins (Z3, D3):
// a department admin opens a time-boxed grant over a department subtree by
// stating a business reason, and under that grant reads the history of
// conversations that include members of the subtree, recalls messages and
// mutes members. The security admin's supervision policy may demand that an
// auditor approves each grant first (Z5 oversight, Z10).
//
// The rules that live here:
//   - A grant covers a department inside one of the supervisor's
//     PermSupervise scopes; any other department, real or not, is not_found
//     (Z6: nothing about it is revealed).
//   - Every operation under a grant re-checks it: the caller's own grant,
//     active, unexpired, and the department still within the caller's
//     scope. Someone else's grant is not_found; one's own grant that is
//     pending, denied, ended or expired is forbidden, saying which.
//   - Every read and action is audited with the grant ID and its stated
//     reason before it happens, and refused if the record cannot be
//     written (D3, L5). Refusals are audited too.
//   - Which conversations a grant covers is computed at each request from
//     the members' current departments, so moved users follow the tree.
//   - End-to-end encrypted content stays ciphertext (chat.openMessage).
//
// The router demands a fresh step-up for every PermSupervise operation
// (authz's sensitive table, A6): a second factor used within
// auth.StepUpWindow (five minutes).
package supervision

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// Durations of access (Z3: time-boxed).
const (
	DefaultDuration = time.Hour
	MaxDuration     = 8 * time.Hour
	// MaxMute bounds one mute.
	MaxMute = 7 * 24 * time.Hour
)

// Reason bounds, in characters (D3: a stated business reason).
const (
	minReason = 10
	maxReason = 500
	maxTicket = 64
)

// Pages.
const (
	defaultPage         = 50
	maxPage             = 200
	defaultConversation = 100
)

// Service implements parley.SupervisionService.
type Service struct {
	store parley.Store
	chat  parley.SupervisedChat
	audit parley.Auditor
	now   parley.Clock
	log   *slog.Logger
}

var _ parley.SupervisionService = (*Service)(nil)

// New returns a Service. chat reads and acts on conversations without
// membership; only this package may be given it.
func New(store parley.Store, chat parley.SupervisedChat, auditor parley.Auditor, now parley.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, chat: chat, audit: auditor, now: now, log: log}
}

// record writes an audit record before the operation it describes; the
// operation must not happen unrecorded (D3, L5: fail closed).
func (s *Service) record(ctx context.Context, a *parley.Actor, action, target, reason string) error {
	err := s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: action,
		Target: target, SourceIP: a.SourceIP, Result: parley.ResultSuccess, Reason: reason})
	if err != nil {
		s.log.ErrorContext(ctx, "audit record not written", "action", action, "err", err)
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	return nil
}

// deny audits a refusal and returns err. The refusal stands even if the
// record cannot be written.
func (s *Service) deny(ctx context.Context, a *parley.Actor, action, target string, err error) error {
	if rerr := s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: action,
		Target: target, SourceIP: a.SourceIP, Result: parley.ResultDenied, Reason: parley.ErrorMessage(err)}); rerr != nil {
		s.log.ErrorContext(ctx, "audit record not written", "action", action, "err", rerr)
	}
	return err
}

// describe is how audit records name a grant: its ID and stated reason,
// so that every record of a supervised read carries the why (D3).
func describe(g *parley.SupervisionGrant) string {
	d := fmt.Sprintf("grant=%s department=%s reason=%q", g.ID, g.DepartmentID, g.Reason)
	if g.TicketID != "" {
		d += " ticket=" + g.TicketID
	}
	return d
}

// tree reads the department tree for a scope check. It is read per
// operation: a stale copy must never widen a scope.
func (s *Service) tree(ctx context.Context) (*authz.Tree, error) {
	deps, err := s.store.ListDepartments(ctx)
	if err != nil {
		return nil, err
	}
	return authz.NewTree(deps), nil
}

// validateReason accepts 10 to 500 printable characters on one line,
// surrounding space trimmed.
func validateReason(r string) (string, error) {
	r = strings.TrimSpace(r)
	n := utf8.RuneCountInString(r)
	if !utf8.ValidString(r) || n < minReason || n > maxReason || !printable(r) {
		return "", parley.Errorf(parley.CodeInvalid, "reason is required: %d to %d printable characters on one line", minReason, maxReason)
	}
	return r, nil
}

// printable reports whether every rune is a graphic character or a space:
// no control, format (bidi overrides, zero-width) or line separator.
func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// validateTicket accepts an empty ticket ID or up to 64 of [A-Za-z0-9._:/#-].
func validateTicket(t string) error {
	if len(t) > maxTicket {
		return parley.Errorf(parley.CodeInvalid, "ticket_id must be at most %d characters", maxTicket)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:/#-", c) >= 0) {
			return parley.Errorf(parley.CodeInvalid, "ticket_id may contain only letters, digits and . _ : / # -")
		}
	}
	return nil
}

// truncate makes an identifier from a request safe for an audit record:
// valid UTF-8 without control characters, at most 64 bytes.
func truncate(id string) string {
	id = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(id, "\uFFFD"))
	for len(id) > 64 {
		_, n := utf8.DecodeLastRuneInString(id)
		id = id[:len(id)-n]
	}
	return id
}
