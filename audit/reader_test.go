package audit

import (
	"context"
	"errors"
	"testing"

	"github.com/parleyhq/parley"
)

func TestList(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	r := NewRecorder(store, fixedClock(t0), nil)
	for range 5 {
		if err := r.Record(ctx, parley.AuditRecord{Action: "auth.login", Result: parley.ResultSuccess}); err != nil {
			t.Fatal(err)
		}
	}
	auditor := &parley.Actor{UserID: "u_aud", Username: "aud", Roles: []parley.Role{parley.RoleAuditor}, SourceIP: "192.0.2.9"}
	recs, err := r.List(ctx, auditor, 2, 2)
	if err != nil || len(recs) != 2 || recs[0].Seq != 3 || recs[1].Seq != 4 {
		t.Fatalf("List = %d records, %v", len(recs), err)
	}
	last := store.recs[len(store.recs)-1]
	if last.Action != "audit.read" || last.ActorID != "u_aud" || last.Target != "after_seq=2 limit=2" || last.SourceIP != "192.0.2.9" {
		t.Fatalf("read not audited: %+v", last)
	}
	if err := Verify(store.recs, nil); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		actor *parley.Actor
		after int64
		code  parley.Code
	}{
		{"anonymous", nil, 0, parley.CodeUnauthenticated},
		{"system admin", &parley.Actor{UserID: "u_sa", Roles: []parley.Role{parley.RoleSystemAdmin}}, 0, parley.CodeForbidden},
		{"security admin", &parley.Actor{UserID: "u_sec", Roles: []parley.Role{parley.RoleSecurityAdmin}}, 0, parley.CodeForbidden},
		{"user", &parley.Actor{UserID: "u_1", Roles: []parley.Role{parley.RoleUser}}, 0, parley.CodeForbidden},
		{"negative cursor", auditor, -1, parley.CodeInvalid},
	} {
		if _, err := r.List(ctx, tc.actor, tc.after, 10); parley.ErrorCode(err) != tc.code {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.code)
		}
	}

	// Fail closed: no records leave if the read cannot be audited.
	store.err = errors.New("disk full")
	if recs, err := r.List(ctx, auditor, 0, 10); err == nil || recs != nil {
		t.Fatalf("List with failing audit = %d records, %v", len(recs), err)
	}
}
