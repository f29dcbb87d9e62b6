package audit

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Field limits: audit records describe events, they do not carry payloads.
// A caller-controlled field (a claimed username, a reason) cannot bloat the
// trail beyond these.
const (
	MaxFieldLen  = 256
	MaxReasonLen = 1024
)

// Recorder writes audit records (L1) to the chained audit store. It is the
// parley.Auditor of the server.
type Recorder struct {
	store parley.AuditStore
	clock parley.Clock
	log   *slog.Logger
}

var _ parley.Auditor = (*Recorder)(nil)

// NewRecorder returns a Recorder appending to store, stamping records with
// clock (parley.SystemClock if nil) and logging failures to log.
func NewRecorder(store parley.AuditStore, clock parley.Clock, log *slog.Logger) *Recorder {
	if clock == nil {
		clock = parley.SystemClock
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{store: store, clock: clock, log: log}
}

// Record appends rec to the trail. Seq, PrevHash and Hash are assigned by
// the store and Link; Time comes from the clock, in UTC truncated to
// microseconds (the store's precision). String fields are kept as given —
// the trail must show what happened, control characters included — except
// that invalid UTF-8 and NUL bytes become U+FFFD (PostgreSQL text refuses
// both, and an attacker-chosen username must not make audit writes fail)
// and long values are cut at a UTF-8 boundary and end in "…".
//
// The error is returned, not swallowed: callers of sensitive operations
// refuse to proceed when it is not nil (fail closed, L5).
func (r *Recorder) Record(ctx context.Context, rec parley.AuditRecord) error {
	if rec.Action == "" {
		return parley.Internal("audit.Record", errors.New("record without action"))
	}
	switch rec.Result {
	case parley.ResultSuccess, parley.ResultFailure, parley.ResultDenied:
	default:
		return parley.Internal("audit.Record", errors.New("record with unknown result"))
	}
	rec.Seq, rec.PrevHash, rec.Hash = 0, nil, nil
	rec.Time = r.clock().UTC().Truncate(time.Microsecond)
	rec.ActorID = parley.UserID(clean(string(rec.ActorID), MaxFieldLen))
	rec.ActorName = clean(rec.ActorName, MaxFieldLen)
	rec.Action = clean(rec.Action, MaxFieldLen)
	rec.Target = clean(rec.Target, MaxFieldLen)
	rec.SourceIP = clean(rec.SourceIP, MaxFieldLen)
	rec.Reason = clean(rec.Reason, MaxReasonLen)
	if err := r.store.AppendAudit(ctx, &rec, Link); err != nil {
		r.log.ErrorContext(ctx, "audit record not written", "action", rec.Action, "err", err)
		return &parley.Error{Code: parley.CodeUnavailable, Message: "audit trail unavailable", Op: "audit.Record", Err: err}
	}
	return nil
}

const ellipsis = "…"

// clean makes s valid UTF-8 without NUL and at most max bytes long.
func clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
