package authzmatrix

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// TestAuthorizationMatrix walks every published operation and WebSocket
// frame with every principal (Z1): see the package comment.
func TestAuthorizationMatrix(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { runMatrix(t, parleytest.NewServer(t)) })
	if os.Getenv(parleytest.PostgresEnv) != "" {
		t.Run("postgres", func(t *testing.T) {
			runMatrix(t, parleytest.NewServer(t, parleytest.WithDSN(parleytest.NewPostgresDSN(t))))
		})
	}
}

func runMatrix(t *testing.T, s *parleytest.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	w := newWorld(ctx, t, s)
	ops := readOperations(ctx, t, s.Client())
	w.anonymous(ctx, t, ops)

	mark := w.auditMark(ctx, t)
	passed := map[string][]operation{}
	for _, p := range w.principals {
		w.fresh(ctx, t, p)
		for _, op := range ops {
			if op.Perm != authz.PermPublic && w.gate(ctx, t, p, op) {
				passed[p.label] = append(passed[p.label], op)
			}
		}
		w.gateFrames(ctx, t, p)
	}
	t.Run("audit/api.denied", func(t *testing.T) { w.checkDenials(ctx, t, mark) })
	checkSeparation(t, passed, w.customPerms)
	w.scopeRelations(ctx, t, ops)
	t.Logf("%d operations × %d principals on %s in %v", len(ops), len(w.principals), s.DBName, time.Since(start).Round(time.Millisecond))
}

// gateRefusals are the router's answers before the permission check
// decides anything. For an operation the principal may perform none of
// them may come back: the session is fresh, enrolled and stepped up.
// (unauthenticated is not among them: handlers answer it for a wrong
// code; the probe below tells the router's from the handler's.)
var gateRefusals = map[string]bool{
	"forbidden": true, "step_up_required": true, "mfa_enrollment_required": true, "password_change_required": true,
}

// handlerForbidden lists operations whose handler itself answers
// forbidden to the walk's minimal body. For them the plain request's 403
// is accepted as long as the probe shows the gate let the request
// through; the denial then leaves no api.denied record.
var handlerForbidden = map[string]string{
	// auth.ChangePassword: a wrong current_password is forbidden (and
	// audited as auth.password_change).
	"POST /api/v1/auth/password": "wrong current password",
}

// probeQuery is a query parameter no operation declares. The router
// parses the query after authentication, the permission and step-up, and
// before the body and the handler, so the answer to a request carrying it
// says exactly how far the request got: 400 invalid is past the gate,
// with nothing done.
const probeQuery = "?x_matrix_probe=1"

// anonymous: public operations answer without a session; every other one
// stops at 401 (deny by default, Z1).
func (w *world) anonymous(ctx context.Context, t *testing.T, ops []operation) {
	anon := w.s.Client()
	for _, op := range ops {
		relation := "no-session"
		if op.Perm == authz.PermPublic {
			relation = "public"
		}
		t.Run("anonymous/"+relation+"/"+op.String(), func(t *testing.T) {
			status, code, err := anon.Raw(ctx, op.Method, op.path(nil), op.minimalBody(), nil)
			if err != nil {
				t.Fatal(err)
			}
			pstatus, pcode, err := anon.Raw(ctx, op.Method, op.path(nil)+probeQuery, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case op.Perm != authz.PermPublic && (status != 401 || code != "unauthenticated" || pstatus != 401 || pcode != "unauthenticated"):
				t.Errorf("got %d %s (probe %d %s), want 401 unauthenticated", status, code, pstatus, pcode)
			case op.Perm == authz.PermPublic && (pstatus != 400 || pcode != "invalid"):
				t.Errorf("probe got %d %s, want 400 invalid: a public operation must not need a session", pstatus, pcode)
			case status >= 500:
				t.Errorf("got %d %s: bad input must be a 4xx", status, code)
			}
		})
	}
	// The walk's minimal bodies are failed logins to the throttle (I1).
	w.s.Clock.Advance(time.Minute)
}

// gate sends op with made-up IDs and a minimal body, then the probe, and
// checks the answers against the permission table. It reports whether the
// probe got past the gate: what the server did, whatever the table says.
func (w *world) gate(ctx context.Context, t *testing.T, p *principal, op operation) bool {
	t.Helper()
	held := p.held[op.Perm]
	var denied int
	passed := false
	t.Run(p.label+"/made-up/"+op.String(), func(t *testing.T) {
		status, code, err := p.c.Raw(ctx, op.Method, op.path(nil), op.minimalBody(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !held && status == 403 && code == "forbidden" {
			denied++
		}
		if status >= 200 && status < 300 && op.Method != "GET" {
			w.alive(ctx, t, p) // logout and friends end the session
		}
		pstatus, pcode, err := p.c.Raw(ctx, op.Method, op.path(nil)+probeQuery, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !held && pstatus == 403 && pcode == "forbidden" {
			denied++
		}
		passed = pstatus == 400 && pcode == "invalid"
		if _, ok := handlerForbidden[op.String()]; ok && code == "forbidden" && pcode == "invalid" {
			code = "forbidden (by the handler)"
		}
		switch {
		case !held && (status != 403 || code != "forbidden" || pstatus != 403 || pcode != "forbidden"):
			t.Errorf("lacks %s: got %d %s (probe %d %s), want 403 forbidden", op.Perm, status, code, pstatus, pcode)
		case held && (gateRefusals[code] || pstatus != 400 || pcode != "invalid"):
			t.Errorf("holds %s: got %d %s (probe %d %s), want past the gate (probe 400 invalid)", op.Perm, status, code, pstatus, pcode)
		}
		if status >= 500 {
			t.Errorf("got %d %s: a made-up ID or minimal body must be a 4xx", status, code)
		}
	})
	if denied > 0 {
		w.denied[p.userID+" "+op.String()] += denied
		w.deniedTotal += denied
	}
	return passed
}

// auditMark returns the sequence number of the newest audit record.
func (w *world) auditMark(ctx context.Context, t *testing.T) int64 {
	t.Helper()
	var last int64
	for _, r := range w.auditSince(ctx, t, 0) {
		last = max(last, r.Seq)
	}
	return last
}

// auditSince reads the trail after seq as the auditor.
func (w *world) auditSince(ctx context.Context, t *testing.T, seq int64) []wire.AuditRecord {
	t.Helper()
	aud := w.principal(string(parley.RoleAuditor))
	w.fresh(ctx, t, aud)
	const pageSize = 1000
	var out []wire.AuditRecord
	for {
		// Reading the trail is audited too, so the trail grows while it
		// is read: a short page is the end.
		page, err := aud.c.Audit(ctx, seq, pageSize)
		if err != nil {
			t.Fatalf("read audit: %v", err)
		}
		out = append(out, page...)
		if len(page) < pageSize {
			return out
		}
		seq = page[len(page)-1].Seq
	}
}

// checkDenials: every refusal of the gate left exactly one api.denied
// record naming the actor and the operation (L1).
func (w *world) checkDenials(ctx context.Context, t *testing.T, mark int64) {
	got := map[string]int{}
	total := 0
	for _, r := range w.auditSince(ctx, t, mark) {
		if r.Action == "api.denied" {
			got[r.ActorID+" "+r.Target]++
			total++
		}
	}
	if total != w.deniedTotal {
		t.Errorf("%d api.denied records after the walk, want %d (one per refusal)", total, w.deniedTotal)
	}
	for k, n := range w.denialMismatches(got) {
		t.Errorf("%s: %d api.denied records, want %d", k, n[0], n[1])
	}
	if w.deniedTotal == 0 {
		t.Error("the walk refused nothing: the matrix has no deny side")
	}
}

// denialMismatches returns the keys whose record count differs from the
// refusals seen: key → {records, refusals}.
func (w *world) denialMismatches(got map[string]int) map[string][2]int {
	out := map[string][2]int{}
	for k, n := range w.denied {
		if got[k] != n {
			out[k] = [2]int{got[k], n}
		}
	}
	for k, n := range got {
		if _, ok := w.denied[k]; !ok {
			out[k] = [2]int{n, 0}
		}
	}
	return out
}
