package directory

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// Directory entries (M5): display name, department and job title. The
// system admin edits anyone's entry but their own; a user edits only their
// own display name. Both live here rather than in lifecycle because a move
// changes what the isolation view of this service decides (Z7), and
// because the directory is where the entries are read.
//
// What a move does not change: role grants. A grant is scoped to a
// department, not to a person (roles.go), so a department admin who moves
// still administers the department they were granted, and nobody gains
// their new department's grants. The audit record of a move lists the
// scoped grants the user keeps, for the access review (Z8) to act on.
//
// A disabled (offboarded) account can be edited: HR corrects names and
// departments of leavers too, and an edit gives the account nothing back.

// UsersInDepartment searches the users of dept and its sub-departments by
// username or display name, filtered by the isolation policy like Users.
// The department tree is no secret to a directory reader (GET
// /departments), so an unknown department is plainly not_found.
func (s *Service) UsersInDepartment(ctx context.Context, a *parley.Actor, dept parley.DepartmentID, query string, limit int) ([]*parley.User, error) {
	if err := authz.Check(a, authz.PermDirectoryRead); err != nil {
		return nil, err
	}
	query, limit, err := searchArgs(query, limit)
	if err != nil {
		return nil, err
	}
	if err := s.departmentExists(ctx, dept); err != nil {
		return nil, err
	}
	return s.visibleUsers(ctx, a, limit, func(n int) ([]*parley.User, error) {
		return s.store.ListUsersInDepartment(ctx, dept, query, n)
	})
}

// departmentExists answers not_found for an ID that names no department,
// including one that could not be an ID at all (a query parameter is any
// string; PostgreSQL refuses invalid UTF-8 outright).
func (s *Service) departmentExists(ctx context.Context, id parley.DepartmentID) error {
	if !plausibleID(string(id)) {
		return parley.Errorf(parley.CodeNotFound, "department not found")
	}
	_, err := s.store.DepartmentByID(ctx, id)
	if parley.IsNotFound(err) {
		return parley.Errorf(parley.CodeNotFound, "department not found")
	}
	return err
}

// plausibleID reports whether id could be an identifier the server issued:
// the same bound the router puts on path identifiers.
func plausibleID(id string) bool {
	return id != "" && len(id) <= 128 && parley.CleanText(id)
}

// UpdateUser changes another account's display name, department and/or
// title (users.manage, which is organisation-wide only: the permission
// cannot be scoped to a department, authz/catalog.go). The change is
// audited with the old and new values before it is made (L5). Editing
// one's own entry here is refused: a system admin moving themselves
// would choose whom isolation lets them see and message (Z7), and a title
// they give themselves reads as the organisation's word; their display
// name they change like anyone, through UpdateMe.
func (s *Service) UpdateUser(ctx context.Context, a *parley.Actor, id parley.UserID, upd parley.UserUpdate) (*parley.User, error) {
	const action = "user.update"
	if err := authz.Check(a, authz.PermUsersManage); err != nil {
		return nil, err
	}
	if id == a.UserID {
		err := parley.Errorf(parley.CodeForbidden, "you cannot edit your own directory entry here; change your display name with PATCH /api/v1/me")
		return nil, s.refuse(ctx, a, action, string(id), parley.ResultDenied, err)
	}
	u, err := s.store.UserByID(ctx, id)
	if parley.IsNotFound(err) {
		return nil, parley.Errorf(parley.CodeNotFound, "user not found")
	}
	if err != nil {
		return nil, err
	}
	upd, err = cleanUpdate(upd)
	if err != nil {
		return nil, s.refuse(ctx, a, action, string(id), parley.ResultFailure, err)
	}
	if upd.DepartmentID != nil {
		if err := s.departmentExists(ctx, *upd.DepartmentID); err != nil {
			return nil, err
		}
	}
	changes := describeChanges(u, upd)
	if changes == "" {
		return u, nil // nothing differs: nothing to record or write
	}
	moved := upd.DepartmentID != nil && *upd.DepartmentID != u.DepartmentID
	if moved {
		if kept := scopedGrants(u); kept != "" {
			changes += "; scoped grants kept: " + kept
		}
	}
	if err := s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: action,
		Target: string(id), SourceIP: a.SourceIP, Result: parley.ResultSuccess, Reason: changes}); err != nil {
		return nil, parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := s.store.UpdateUserProfile(ctx, id, upd); err != nil {
		if parley.IsNotFound(err) {
			// The user or the department went away since the reads above.
			return nil, parley.Errorf(parley.CodeNotFound, "user or department not found")
		}
		return nil, err
	}
	if moved {
		// Whom the user may see and message changed (Z7). The isolation
		// view holds the policy and the tree, not who is where: searches
		// and new conversations read departments from the database and
		// follow the move at once, on every node. The view is dropped
		// all the same, so that nothing this node derived from it
		// outlives the move; chat's read-only verdicts on existing
		// conversations follow within its verdictTTL (chat/isolation.go).
		s.iso.invalidate()
	}
	return s.store.UserByID(ctx, id)
}

// UpdateMe changes the caller's display name, under the rules of account
// creation (parley.ValidateDisplayName: no look-alike, invisible or bidi
// characters, I3). Audited with the old and new name, so that a
// colleague's impersonation can be traced.
func (s *Service) UpdateMe(ctx context.Context, a *parley.Actor, displayName string) (*parley.User, error) {
	const action = "user.update_self"
	if err := authz.Check(a, authz.PermSelf); err != nil {
		return nil, err
	}
	upd, err := cleanUpdate(parley.UserUpdate{DisplayName: &displayName})
	if err != nil {
		return nil, s.refuse(ctx, a, action, string(a.UserID), parley.ResultFailure, err)
	}
	u, err := s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	changes := describeChanges(u, upd)
	if changes == "" {
		return u, nil
	}
	if err := s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: action,
		Target: string(a.UserID), SourceIP: a.SourceIP, Result: parley.ResultSuccess, Reason: changes}); err != nil {
		return nil, parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := s.store.UpdateUserProfile(ctx, a.UserID, upd); err != nil {
		return nil, err
	}
	return s.store.UserByID(ctx, a.UserID)
}

// refuse records a refused edit (a look-alike name is an impersonation
// attempt worth seeing in the trail) and returns err.
func (s *Service) refuse(ctx context.Context, a *parley.Actor, action, target, result string, err error) error {
	_ = s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: action,
		Target: target, SourceIP: a.SourceIP, Result: result, Reason: parley.ErrorMessage(err)})
	return err
}

// cleanUpdate trims and checks the fields of upd: display name and title
// by the rules of account creation; a department must be named (every
// account has one). At least one field must be given.
func cleanUpdate(upd parley.UserUpdate) (parley.UserUpdate, error) {
	if upd.DisplayName == nil && upd.DepartmentID == nil && upd.Title == nil {
		return upd, parley.Errorf(parley.CodeInvalid, "nothing to change: give display_name, department_id or title")
	}
	if upd.DisplayName != nil {
		name := strings.TrimSpace(*upd.DisplayName)
		if err := parley.ValidateDisplayName(name); err != nil {
			return upd, err
		}
		upd.DisplayName = &name
	}
	if upd.Title != nil {
		title := strings.TrimSpace(*upd.Title)
		if err := parley.ValidateTitle(title); err != nil {
			return upd, err
		}
		upd.Title = &title
	}
	if upd.DepartmentID != nil && *upd.DepartmentID == "" {
		return upd, parley.Errorf(parley.CodeInvalid, "department_id must name a department")
	}
	return upd, nil
}

// describeChanges lists the fields upd changes on u as old→new, for the
// audit trail; empty when nothing differs.
func describeChanges(u *parley.User, upd parley.UserUpdate) string {
	var parts []string
	if upd.DisplayName != nil && *upd.DisplayName != u.DisplayName {
		parts = append(parts, fmt.Sprintf("display_name %q→%q", u.DisplayName, *upd.DisplayName))
	}
	if upd.DepartmentID != nil && *upd.DepartmentID != u.DepartmentID {
		parts = append(parts, fmt.Sprintf("department %s→%s", orNone(string(u.DepartmentID)), *upd.DepartmentID))
	}
	if upd.Title != nil && *upd.Title != u.Title {
		parts = append(parts, fmt.Sprintf("title %q→%q", u.Title, *upd.Title))
	}
	return strings.Join(parts, " ")
}

// scopedGrants lists u's department-scoped grants as role@department.
func scopedGrants(u *parley.User) string {
	var out []string
	for _, g := range u.Grants {
		if g.Scope != "" {
			out = append(out, string(g.Role)+"@"+string(g.Scope))
		}
	}
	return strings.Join(out, ",")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// searchArgs checks a search query and bounds its limit.
func searchArgs(query string, limit int) (string, int, error) {
	if utf8.RuneCountInString(query) > 64 || !parley.CleanText(query) {
		return "", 0, parley.Errorf(parley.CodeInvalid, "q must be at most 64 printable characters")
	}
	if limit <= 0 || limit > MaxResults {
		limit = MaxResults
	}
	return strings.TrimSpace(query), limit, nil
}
