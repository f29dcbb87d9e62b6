package directory

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// tree loads the department tree as a parent map.
func (s *Service) tree(ctx context.Context) (map[parley.DepartmentID]*parley.Department, error) {
	deps, err := s.store.ListDepartments(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[parley.DepartmentID]*parley.Department, len(deps))
	for _, d := range deps {
		m[d.ID] = d
	}
	return m, nil
}

// within reports whether id is dep or one of its descendants.
func within(tree map[parley.DepartmentID]*parley.Department, id, dep parley.DepartmentID) bool {
	for hops := 0; id != "" && hops <= len(tree); hops++ {
		if id == dep {
			return true
		}
		d, ok := tree[id]
		if !ok {
			return false
		}
		id = d.ParentID
	}
	return false
}

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 128 || !parley.CleanText(name) {
		return "", parley.Errorf(parley.CodeInvalid, "name must be 1 to 128 printable characters")
	}
	return name, nil
}

// UpdateDepartment renames a department and/or moves it under a new parent.
// The root stays the root, and a department cannot move under itself or
// its own descendants (the tree stays a tree).
func (s *Service) UpdateDepartment(ctx context.Context, a *parley.Actor, id parley.DepartmentID, name *string, parent *parley.DepartmentID) (*parley.Department, error) {
	if err := authz.Check(a, authz.PermDepartmentsManage); err != nil {
		return nil, err
	}
	tree, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	d, ok := tree[id]
	if !ok {
		return nil, parley.Errorf(parley.CodeNotFound, "department not found")
	}
	updated := *d
	if name != nil {
		if updated.Name, err = validName(*name); err != nil {
			return nil, err
		}
	}
	if parent != nil {
		if d.ParentID == "" {
			return nil, parley.Errorf(parley.CodeInvalid, "the root department cannot move")
		}
		if _, ok := tree[*parent]; !ok {
			return nil, parley.Errorf(parley.CodeNotFound, "parent department not found")
		}
		if within(tree, *parent, id) {
			return nil, parley.Errorf(parley.CodeInvalid, "a department cannot move under itself or its sub-departments")
		}
		updated.ParentID = *parent
	}
	if err := s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "department.update",
		Target: string(id), SourceIP: a.SourceIP, Result: parley.ResultSuccess,
		Reason: "name=" + updated.Name + " parent=" + string(updated.ParentID)}); err != nil {
		return nil, parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := s.store.UpdateDepartment(ctx, &updated); err != nil {
		return nil, err
	}
	s.iso.invalidate() // a move changes who is whose ancestor (Z7)
	return &updated, nil
}

// MergeDepartment folds from into into: members and sub-departments move,
// from is deleted. The root cannot be merged away, nor a department into
// its own subtree.
func (s *Service) MergeDepartment(ctx context.Context, a *parley.Actor, from, into parley.DepartmentID) error {
	if err := authz.Check(a, authz.PermDepartmentsManage); err != nil {
		return err
	}
	tree, err := s.tree(ctx)
	if err != nil {
		return err
	}
	f, ok := tree[from]
	if !ok {
		return parley.Errorf(parley.CodeNotFound, "department not found")
	}
	if _, ok := tree[into]; !ok {
		return parley.Errorf(parley.CodeNotFound, "target department not found")
	}
	if f.ParentID == "" {
		return parley.Errorf(parley.CodeInvalid, "the root department cannot be merged away")
	}
	if within(tree, into, from) {
		return parley.Errorf(parley.CodeInvalid, "cannot merge a department into itself or its sub-departments")
	}
	if err := s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "department.merge",
		Target: string(from), SourceIP: a.SourceIP, Result: parley.ResultSuccess, Reason: "into=" + string(into)}); err != nil {
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := s.store.MergeDepartment(ctx, from, into); err != nil {
		return err
	}
	s.iso.invalidate() // members changed department (Z7)
	return nil
}
