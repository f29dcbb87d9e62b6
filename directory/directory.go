// Package directory is the organisation directory (M5): the department tree,
// user search, and the department isolation policy (Z7) that decides who
// sees whom in the search and who may start conversations with whom (chat
// asks through parley.Isolation); the entries themselves — display name,
// department, job title — and who may edit them (users.go). Every read goes
// through a permission check.
package directory

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// Service implements parley.DirectoryService.
type Service struct {
	store parley.Store
	audit parley.Auditor
	now   parley.Clock
	iso   isoCache
}

// New returns a Service.
func New(store parley.Store, auditor parley.Auditor, now parley.Clock) *Service {
	return &Service{store: store, audit: auditor, now: now}
}

var _ parley.DirectoryService = (*Service)(nil)

// MaxResults bounds a directory search.
const MaxResults = 200

// Users searches users by username or display name. Under a strict
// isolation policy the caller sees only the users it may talk to (Z7),
// unless an administrative permission needs the whole directory.
func (s *Service) Users(ctx context.Context, a *parley.Actor, query string, limit int) ([]*parley.User, error) {
	if err := authz.Check(a, authz.PermDirectoryRead); err != nil {
		return nil, err
	}
	query, limit, err := searchArgs(query, limit)
	if err != nil {
		return nil, err
	}
	return s.visibleUsers(ctx, a, limit, func(n int) ([]*parley.User, error) {
		return s.store.ListUsers(ctx, query, n)
	})
}

// CreateDepartment adds a department under parent (the root if empty).
func (s *Service) CreateDepartment(ctx context.Context, a *parley.Actor, name string, parent parley.DepartmentID) (*parley.Department, error) {
	if err := authz.Check(a, authz.PermDepartmentsManage); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 128 || !parley.CleanText(name) {
		return nil, parley.Errorf(parley.CodeInvalid, "name must be 1 to 128 printable characters")
	}
	if parent == "" {
		deps, err := s.store.ListDepartments(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range deps {
			if d.ParentID == "" {
				parent = d.ID
			}
		}
	} else if _, err := s.store.DepartmentByID(ctx, parent); err != nil {
		if parley.IsNotFound(err) {
			return nil, parley.Errorf(parley.CodeNotFound, "parent department not found")
		}
		return nil, err
	}
	d := &parley.Department{ID: parley.NewDepartmentID(), ParentID: parent, Name: name, CreatedAt: s.now()}
	if err := s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username,
		Action: "department.create", Target: string(d.ID), SourceIP: a.SourceIP,
		Result: parley.ResultSuccess, Reason: "name=" + name}); err != nil {
		return nil, parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := s.store.CreateDepartment(ctx, d); err != nil {
		return nil, err
	}
	s.iso.invalidate() // the isolation view holds the tree
	return d, nil
}

// Departments lists the tree.
func (s *Service) Departments(ctx context.Context, a *parley.Actor) ([]*parley.Department, error) {
	if err := authz.Check(a, authz.PermDirectoryRead); err != nil {
		return nil, err
	}
	return s.store.ListDepartments(ctx)
}
