package access

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// builtinNames are the display names of the built-in roles.
var builtinNames = map[parley.Role]string{
	parley.RoleUser:            "User",
	parley.RoleDepartmentAdmin: "Department administrator",
	parley.RoleSystemAdmin:     "System administrator",
	parley.RoleSecurityAdmin:   "Security administrator",
	parley.RoleAuditor:         "Auditor",
}

// Roles lists the built-in roles, then the custom ones by name.
func (s *Service) Roles(ctx context.Context, a *parley.Actor) ([]parley.RoleInfo, error) {
	if err := authz.Check(a, authz.PermRolesRead); err != nil {
		return nil, err
	}
	cat, err := s.sessions.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	var out []parley.RoleInfo
	for _, r := range authz.Builtin() {
		out = append(out, parley.RoleInfo{ID: r, Name: builtinNames[r], Builtin: true,
			Permissions: permStrings(authz.BuiltinPermissions(r)), Admin: cat.IsAdmin(r)})
	}
	custom, err := s.store.CustomRoles(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range custom {
		out = append(out, parley.RoleInfo{ID: r.ID, Name: r.Name, Description: r.Description,
			Permissions: permStrings(authz.Permissions(cat.RoleBits(r.ID))), Admin: cat.IsAdmin(r.ID)})
	}
	return out, nil
}

func permStrings(ps []authz.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func checkRoleText(name, description string) error {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 || !parley.CleanText(name) {
		return parley.Errorf(parley.CodeInvalid, "name must be 1 to 64 printable characters")
	}
	if utf8.RuneCountInString(description) > 500 || !parley.CleanText(description) {
		return parley.Errorf(parley.CodeInvalid, "description must be at most 500 printable characters")
	}
	if _, builtin := builtinNames[parley.Role(strings.ToLower(name))]; builtin {
		return parley.Errorf(parley.CodeConflict, "a built-in role has that name")
	}
	return nil
}

// CreateRole defines a custom role (Z6). Its permissions are checked by
// authz.CheckCustomPermissions: none of the security administrator's, one
// administrator duty at most.
func (s *Service) CreateRole(ctx context.Context, a *parley.Actor, name, description string, perms []string) (*parley.CustomRole, error) {
	if err := authz.Check(a, authz.PermRolesManage); err != nil {
		return nil, err
	}
	if err := checkRoleText(name, description); err != nil {
		return nil, err
	}
	if err := authz.CheckCustomPermissions(perms); err != nil {
		return nil, s.deny(ctx, a, "role.create", strings.TrimSpace(name), err)
	}
	now := s.now()
	r := &parley.CustomRole{ID: parley.Role(authz.CustomPrefix + rand.Text()[:16]), Name: strings.TrimSpace(name),
		Description: description, Permissions: perms, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	if err := s.record(ctx, a, "role.create", string(r.ID), parley.ResultSuccess,
		"name="+r.Name+" permissions="+strings.Join(perms, ",")); err != nil {
		return nil, err
	}
	if err := s.store.CreateCustomRole(ctx, r); err != nil {
		if parley.ErrorCode(err) == parley.CodeConflict {
			return nil, parley.Errorf(parley.CodeConflict, "a role with that name exists")
		}
		return nil, err
	}
	s.sessions.InvalidateCatalog()
	return r, nil
}

func (s *Service) customRole(ctx context.Context, id parley.Role) (*parley.CustomRole, error) {
	if !authz.IsCustom(id) {
		return nil, parley.Errorf(parley.CodeNotFound, "role not found (built-in roles cannot be changed)")
	}
	roles, err := s.store.CustomRoles(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, parley.Errorf(parley.CodeNotFound, "role not found")
}

// UpdateRole changes a custom role. A change of permissions reaches the
// holders at once: their sessions end, and the next ones resolve the new
// set. A change that would put a holder over two administrator duties is
// refused.
func (s *Service) UpdateRole(ctx context.Context, a *parley.Actor, id parley.Role, name, description *string, perms []string) (*parley.CustomRole, error) {
	if err := authz.Check(a, authz.PermRolesManage); err != nil {
		return nil, err
	}
	r, err := s.customRole(ctx, id)
	if err != nil {
		return nil, err
	}
	upd := *r
	if name != nil {
		upd.Name = strings.TrimSpace(*name)
	}
	if description != nil {
		upd.Description = *description
	}
	if perms != nil {
		upd.Permissions = perms
	}
	if err := checkRoleText(upd.Name, upd.Description); err != nil {
		return nil, err
	}
	if err := authz.CheckCustomPermissions(upd.Permissions); err != nil {
		return nil, s.deny(ctx, a, "role.update", string(id), err)
	}
	upd.UpdatedAt = s.now()
	holders, err := s.holders(ctx, id)
	if err != nil {
		return nil, err
	}
	// Would any holder now reach into two duties (Z10)? Checked inside the
	// store's transaction under the roles lock, against the grants as they
	// are then, so a concurrent grant cannot slip between check and write.
	err = s.store.UpdateCustomRoleChecked(ctx, &upd, func(grants map[parley.UserID][]parley.RoleGrant, custom []*parley.CustomRole) error {
		cat := authz.NewCatalog(custom)
		for user, gs := range grants {
			var roles []parley.Role
			for _, g := range gs {
				if !slices.Contains(roles, g.Role) {
					roles = append(roles, g.Role)
				}
			}
			if err := cat.CheckRoleSet(roles); err != nil {
				return parley.Errorf(parley.CodeConflict,
					"user %s holds this role with another administrator duty: %s", user, parley.ErrorMessage(err))
			}
		}
		return nil
	})
	if err != nil {
		switch parley.ErrorCode(err) {
		case parley.CodeConflict:
			if strings.Contains(parley.ErrorMessage(err), "already exists") {
				return nil, parley.Errorf(parley.CodeConflict, "a role with that name exists")
			}
			return nil, s.deny(ctx, a, "role.update", string(id), err)
		case parley.CodeNotFound:
			return nil, parley.Errorf(parley.CodeNotFound, "role not found")
		}
		return nil, err
	}
	if err := s.record(ctx, a, "role.update", string(id), parley.ResultSuccess,
		"name="+upd.Name+" permissions="+strings.Join(upd.Permissions, ",")); err != nil {
		// Fail closed (L5): put the role back as it was.
		_ = s.store.UpdateCustomRole(ctx, r)
		s.sessions.InvalidateCatalog()
		return nil, err
	}
	s.sessions.InvalidateCatalog()
	if perms != nil {
		for _, id := range holders {
			if err := s.sessions.EndUserSessions(ctx, id); err != nil {
				return nil, err
			}
		}
	}
	return &upd, nil
}

// holders returns the IDs of the users who hold role in any scope.
func (s *Service) holders(ctx context.Context, role parley.Role) ([]parley.UserID, error) {
	grants, err := s.store.ListGrants(ctx)
	if err != nil {
		return nil, err
	}
	var out []parley.UserID
	for _, g := range grants {
		if g.Role == role && !slices.Contains(out, g.UserID) {
			out = append(out, g.UserID)
		}
	}
	return out, nil
}

// DeleteRole deletes a custom role nobody holds.
func (s *Service) DeleteRole(ctx context.Context, a *parley.Actor, id parley.Role) error {
	if err := authz.Check(a, authz.PermRolesManage); err != nil {
		return err
	}
	if _, err := s.customRole(ctx, id); err != nil {
		return err
	}
	if err := s.store.DeleteCustomRole(ctx, id); err != nil {
		if parley.ErrorCode(err) == parley.CodeConflict {
			return s.deny(ctx, a, "role.delete", string(id), err)
		}
		return err
	}
	s.sessions.InvalidateCatalog()
	return s.record(ctx, a, "role.delete", string(id), parley.ResultSuccess, "")
}
