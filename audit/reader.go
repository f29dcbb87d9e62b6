package audit

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// MaxList bounds one page of List.
const MaxList = 1000

var _ parley.AuditService = (*Recorder)(nil)

// List returns up to limit records with seq > afterSeq, ascending, to a
// caller holding the audit.read permission (the auditor role). Reading the
// trail is itself recorded (D3); if that record cannot be written the
// records are withheld (fail closed, L5), so no read of the trail goes
// unrecorded.
func (r *Recorder) List(ctx context.Context, a *parley.Actor, afterSeq int64, limit int) ([]*parley.AuditRecord, error) {
	if a == nil {
		return nil, parley.Errorf(parley.CodeUnauthenticated, "authentication required")
	}
	if err := authz.Check(a, authz.PermAuditRead); err != nil {
		return nil, err
	}
	if afterSeq < 0 {
		return nil, parley.Errorf(parley.CodeInvalid, "after_seq must not be negative")
	}
	if limit <= 0 || limit > MaxList {
		limit = MaxList
	}
	recs, err := r.store.ListAudit(ctx, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	if err := r.Record(ctx, parley.AuditRecord{
		ActorID: a.UserID, ActorName: a.Username, Action: "audit.read",
		Target: fmt.Sprintf("after_seq=%d limit=%d", afterSeq, limit), SourceIP: a.SourceIP,
		Result: parley.ResultSuccess,
	}); err != nil {
		return nil, err
	}
	return recs, nil
}
