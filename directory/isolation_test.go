package directory_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/directory"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

// trail records audit records, or refuses them all when broken.
type trail struct {
	mu     sync.Mutex
	recs   []parley.AuditRecord
	broken bool
}

func (tr *trail) Record(_ context.Context, r parley.AuditRecord) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.broken {
		return errors.New("disk full")
	}
	tr.recs = append(tr.recs, r)
	return nil
}

var (
	secAdmin = &parley.Actor{UserID: "u_sec", Username: "sec", Roles: []parley.Role{parley.RoleUser, parley.RoleSecurityAdmin}}
	sysAdmin = &parley.Actor{UserID: "u_sys", Username: "sys", Roles: []parley.Role{parley.RoleUser, parley.RoleSystemAdmin}}
)

// isoFixture is a root with two departments, a and b, in one database.
type isoFixture struct {
	db         *sqldb.DB
	clock      *parleytest.Clock
	root, a, b parley.DepartmentID
}

func newIsoFixture(t *testing.T, db *sqldb.DB) *isoFixture {
	t.Helper()
	ctx := context.Background()
	f := &isoFixture{db: db, clock: parleytest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))}
	f.root = parley.NewDepartmentID()
	if err := db.CreateDepartment(ctx, &parley.Department{ID: f.root, Name: "Org", CreatedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	svc := directory.New(db, &trail{}, f.clock.Now)
	for _, p := range []*parley.DepartmentID{&f.a, &f.b} {
		d, err := svc.CreateDepartment(ctx, sysAdmin, "Dept", f.root)
		if err != nil {
			t.Fatal(err)
		}
		*p = d.ID
	}
	return f
}

func (f *isoFixture) user(t *testing.T, name string, dep parley.DepartmentID) *parley.User {
	t.Helper()
	u := &parley.User{ID: parley.NewUserID(), Username: name, DisplayName: name, DepartmentID: dep,
		Status: parley.UserActive, Roles: []parley.Role{parley.RoleUser}, CreatedAt: f.clock.Now()}
	if err := f.db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestIsolationAcrossNodes: a change shows at once on the node that made it
// and within the cache lifetime on another node sharing the database; the
// view's version moves only when the policy or tree changed (M7, Z7).
func TestIsolationAcrossNodes(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newIsoFixture(t, db)
		node1 := directory.New(db, &trail{}, f.clock.Now)
		node2 := directory.New(db, &trail{}, f.clock.Now)
		v2, err := node2.IsolationView(ctx)
		if err != nil || !v2.Open() {
			t.Fatalf("default view %+v, %v", v2, err)
		}
		if err := node1.SetIsolationPolicy(ctx, secAdmin, &parley.IsolationPolicy{Template: parley.IsolationStrict}); err != nil {
			t.Fatal(err)
		}
		if v, _ := node1.IsolationView(ctx); v.Open() {
			t.Fatal("the node that changed the policy still sees it open")
		}
		if v, _ := node2.IsolationView(ctx); !v.Open() || v.Version != v2.Version {
			t.Fatal("the other node reloaded before its cache expired") // proves the cache is used
		}
		f.clock.Advance(5 * time.Second)
		v, err := node2.IsolationView(ctx)
		if err != nil || v.Open() || v.MayTalk(f.a, f.b) || v.Version == v2.Version {
			t.Fatalf("other node after the cache lifetime: %+v, %v", v, err)
		}
		f.clock.Advance(5 * time.Second)
		if again, _ := node2.IsolationView(ctx); again == v || again.Version != v.Version {
			t.Fatal("a reload without a change must keep the version (and be a reload)")
		}
		// A department change on a node shows there at once.
		if _, err := node2.CreateDepartment(ctx, sysAdmin, "C", f.a); err != nil {
			t.Fatal(err)
		}
		if nv, _ := node2.IsolationView(ctx); nv.Version == v.Version || len(nv.Parents) != 4 {
			t.Fatalf("tree change not seen: %+v", nv)
		}
	})
}

// TestSetIsolationPolicyRefuses: only security policy holders, valid
// templates, known departments, no rule twice (mirror images included);
// refused input is audited as a failure and changes nothing; a broken
// audit trail refuses the change (L5).
func TestSetIsolationPolicyRefuses(t *testing.T) {
	ctx := context.Background()
	f := newIsoFixture(t, parleytest.NewSQLite(t))
	tr := &trail{}
	svc := directory.New(f.db, tr, f.clock.Now)
	good := &parley.IsolationPolicy{Template: parley.IsolationStrict, Allow: []parley.IsolationRule{{A: f.a, B: f.b}}}
	if err := svc.SetIsolationPolicy(ctx, sysAdmin, good); parley.ErrorCode(err) != parley.CodeForbidden {
		t.Fatalf("system admin: %v", err)
	}
	if _, err := svc.IsolationPolicy(ctx, sysAdmin); parley.ErrorCode(err) != parley.CodeForbidden {
		t.Fatalf("system admin reads: %v", err)
	}
	many := &parley.IsolationPolicy{Template: parley.IsolationStrict}
	for i := 0; i < 1001; i++ {
		many.Allow = append(many.Allow, parley.IsolationRule{A: f.a, B: parley.DepartmentID(fmt.Sprint("d_", i))})
	}
	for name, p := range map[string]*parley.IsolationPolicy{
		"unknown template":   {Template: "lax"},
		"empty template":     {},
		"unknown department": {Template: parley.IsolationStrict, Allow: []parley.IsolationRule{{A: f.a, B: "d_gone"}}},
		"empty department":   {Template: parley.IsolationStrict, Allow: []parley.IsolationRule{{A: "", B: f.b}}},
		"twice":              {Template: parley.IsolationStrict, Allow: []parley.IsolationRule{{A: f.a, B: f.b}, {A: f.a, B: f.b}}},
		"mirror image":       {Template: parley.IsolationStrict, Allow: []parley.IsolationRule{{A: f.a, B: f.b}, {A: f.b, B: f.a}}},
		"too many rules":     many,
	} {
		if err := svc.SetIsolationPolicy(ctx, secAdmin, p); parley.ErrorCode(err) != parley.CodeInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if len(tr.recs) != 7 || tr.recs[0].Result != parley.ResultFailure || tr.recs[0].Action != "policy.isolation" {
		t.Fatalf("refusals audited: %+v", tr.recs)
	}
	tr.broken = true
	if err := svc.SetIsolationPolicy(ctx, secAdmin, good); parley.ErrorCode(err) != parley.CodeUnavailable {
		t.Fatalf("with a broken trail: %v", err)
	}
	tr.broken = false
	if p, err := svc.IsolationPolicy(ctx, secAdmin); err != nil || p.Template != parley.IsolationOpen || len(p.Allow) != 0 {
		t.Fatalf("after refusals: %+v, %v", p, err)
	}
	if err := svc.SetIsolationPolicy(ctx, secAdmin, good); err != nil {
		t.Fatal(err)
	}
	last := tr.recs[len(tr.recs)-1]
	if last.Result != parley.ResultSuccess || last.Reason[:len("template open→strict")] != "template open→strict" {
		t.Fatalf("change audited as %+v", last)
	}
	p, err := svc.IsolationPolicy(ctx, secAdmin)
	if err != nil || p.Template != parley.IsolationStrict || len(p.Allow) != 1 || p.Allow[0] != good.Allow[0] {
		t.Fatalf("stored policy %+v, %v", p, err)
	}
}

// TestDirectorySearchIsolated: under strict the search filters before it
// limits, so colleagues are found however many hidden users sort first;
// an administrator sees everyone.
func TestDirectorySearchIsolated(t *testing.T) {
	ctx := context.Background()
	f := newIsoFixture(t, parleytest.NewSQLite(t))
	svc := directory.New(f.db, &trail{}, f.clock.Now)
	for i := 0; i < 5; i++ {
		f.user(t, fmt.Sprintf("aa-hidden-%d", i), f.b)
	}
	me := f.user(t, "zz-me", f.a)
	mate := f.user(t, "zz-mate", f.a)
	actor := &parley.Actor{UserID: me.ID, Username: me.Username, DepartmentID: f.a, Roles: []parley.Role{parley.RoleUser}}
	if err := svc.SetIsolationPolicy(ctx, secAdmin, &parley.IsolationPolicy{Template: parley.IsolationStrict}); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Users(ctx, actor, "", 2)
	if err != nil || len(got) != 2 || got[0].ID != mate.ID || got[1].ID != me.ID {
		t.Fatalf("strict search: %v, %v", got, err)
	}
	all, err := svc.Users(ctx, sysAdmin, "", 0)
	if err != nil || len(all) != 7 {
		t.Fatalf("administrator's search: %d users, %v", len(all), err)
	}
}
