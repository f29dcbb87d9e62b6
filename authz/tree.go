package authz

import (
	"context"

	"github.com/parleyhq/parley"
)

// Tree answers "is this department inside that subtree" for scoped
// permissions. Build one per operation from the department list: the tree
// changes rarely, but a stale copy must never widen a scope.
type Tree struct {
	parent map[parley.DepartmentID]parley.DepartmentID
}

// NewTree indexes the departments by parent.
func NewTree(deps []*parley.Department) *Tree {
	t := &Tree{parent: make(map[parley.DepartmentID]parley.DepartmentID, len(deps))}
	for _, d := range deps {
		t.parent[d.ID] = d.ParentID
	}
	return t
}

// Within reports whether d is root or lies below it. An unknown department
// is within nothing but itself; the walk is bounded so that a cycle (which
// the directory refuses to create) cannot hang it.
func (t *Tree) Within(d, root parley.DepartmentID) bool {
	if t == nil || d == "" || root == "" {
		return d != "" && d == root
	}
	for i := 0; i <= len(t.parent) && d != ""; i++ {
		if d == root {
			return true
		}
		d = t.parent[d]
	}
	return false
}

// Departments loads the department list, for CheckOver.
type Departments func(ctx context.Context) ([]*parley.Department, error)

// CheckOver returns nil if the actor holds p over department d: forbidden
// if it holds p nowhere, not_found if only over other departments — an
// object outside one's scope does not exist for one (Z6). The tree is read
// only for an actor whose grants of p are all scoped.
func CheckOver(ctx context.Context, a *parley.Actor, p Permission, d parley.DepartmentID, load Departments) error {
	if err := Check(a, p); err != nil {
		return err
	}
	if _, all := Scopes(a, p); all {
		return nil
	}
	deps, err := load(ctx)
	if err != nil {
		return err
	}
	if !HoldsIn(a, p, d, NewTree(deps)) {
		return parley.Errorf(parley.CodeNotFound, "not found")
	}
	return nil
}
