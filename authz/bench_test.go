package authz

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley"
)

// The router checks a permission on every request and WebSocket frame
// (Z1), so the check on a resolved actor must stay a mask test: no
// allocation when the permission is held. BENCHMARKS.md, "Permission
// checks", has the figures.

var benchSink bool

// resolvedActor is an actor as auth.Authenticate leaves it: grants
// resolved once into Perms.
func resolvedActor(grants ...parley.RoleGrant) *parley.Actor {
	a := &parley.Actor{UserID: "u_bench", Username: "bench"}
	for _, g := range grants {
		a.Roles = append(a.Roles, g.Role)
	}
	a.Perms = builtinCatalog.Resolve(grants)
	return a
}

func BenchmarkCheck(b *testing.B) {
	a := resolvedActor(parley.RoleGrant{Role: parley.RoleUser}, parley.RoleGrant{Role: parley.RoleSystemAdmin})
	b.Run("held", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if Check(a, PermMessagesSend) != nil {
				b.Fatal("denied")
			}
		}
	})
	// An actor built without Perms (tests, tools) is resolved from its
	// roles on every check: the cost auth.Authenticate saves by resolving
	// once per request.
	b.Run("unresolved", func(b *testing.B) {
		u := &parley.Actor{UserID: "u_bench", Roles: []parley.Role{parley.RoleUser, parley.RoleSystemAdmin}}
		b.ReportAllocs()
		for b.Loop() {
			if Check(u, PermMessagesSend) != nil {
				b.Fatal("denied")
			}
		}
	})
	// A refusal builds its error: the router audits it anyway, so the
	// allocation is not on the path that matters.
	b.Run("denied", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if Check(a, PermAuditRead) == nil {
				b.Fatal("allowed")
			}
		}
	})
}

// benchTree is ~100 departments: a root, 4 divisions, 4 groups in each,
// 5 teams in each group (1 + 4 + 16 + 80 = 101), deepest level 3.
func benchTree() (deps []*parley.Department, team, otherTeam, division parley.DepartmentID) {
	root := &parley.Department{ID: "d_root"}
	deps = append(deps, root)
	for i := range 4 {
		div := &parley.Department{ID: parley.DepartmentID(fmt.Sprintf("d_div%d", i)), ParentID: root.ID}
		deps = append(deps, div)
		for j := range 4 {
			grp := &parley.Department{ID: parley.DepartmentID(fmt.Sprintf("d_grp%d_%d", i, j)), ParentID: div.ID}
			deps = append(deps, grp)
			for k := range 5 {
				deps = append(deps, &parley.Department{ID: parley.DepartmentID(fmt.Sprintf("d_team%d_%d_%d", i, j, k)), ParentID: grp.ID})
			}
		}
	}
	return deps, "d_team1_2_3", "d_team3_3_4", "d_div1"
}

func BenchmarkHoldsIn(b *testing.B) {
	deps, team, otherTeam, division := benchTree()
	tree := NewTree(deps)
	// A department admin over one division: supervision is scoped (Z3).
	scoped := resolvedActor(parley.RoleGrant{Role: parley.RoleUser},
		parley.RoleGrant{Role: parley.RoleDepartmentAdmin, Scope: division})
	orgWide := resolvedActor(parley.RoleGrant{Role: parley.RoleUser}, parley.RoleGrant{Role: parley.RoleSecurityAdmin})
	cases := []struct {
		name string
		a    *parley.Actor
		p    Permission
		d    parley.DepartmentID
		want bool
	}{
		{"scoped/inside", scoped, PermSupervise, team, true},
		{"scoped/outside", scoped, PermSupervise, otherTeam, false},
		{"org-wide", orgWide, PermUsersUnlock, team, true},
		{"not-held", scoped, PermUsersUnlock, team, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if HoldsIn(c.a, c.p, c.d, tree) != c.want {
					b.Fatal("wrong answer")
				}
			}
		})
	}
	// A service builds the tree once per operation from the department
	// list (a stale copy must never widen a scope), so that cost counts.
	b.Run("with-NewTree", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchSink = HoldsIn(scoped, PermSupervise, team, NewTree(deps))
		}
	})
}

func BenchmarkResolve(b *testing.B) {
	cat := NewCatalog([]*parley.CustomRole{
		{ID: "custom:helpdesk", Name: "Helpdesk", Permissions: []string{string(PermUsersUnlock), string(PermDirectoryRead)}},
		{ID: "custom:other", Name: "Other", Permissions: []string{string(PermAuditRead)}},
	})
	grants := []parley.RoleGrant{
		{UserID: "u_bench", Role: parley.RoleUser},
		{UserID: "u_bench", Role: parley.RoleDepartmentAdmin, Scope: "d_div1"},
		{UserID: "u_bench", Role: "custom:helpdesk", Scope: "d_div1"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(cat.Resolve(grants)) != 2 {
			b.Fatal("want two scopes")
		}
	}
}
