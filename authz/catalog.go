package authz

import (
	"slices"
	"strings"

	"github.com/parleyhq/parley"
)

// bits assigns each permission one bit of parley.PermBits, in the order of
// All, so a check is a mask test instead of a list walk (the router checks
// on every request and WebSocket frame).
var bits = func() map[Permission]parley.PermBits {
	if len(All) > 64 {
		panic("authz: more than 64 permissions do not fit parley.PermBits")
	}
	m := make(map[Permission]parley.PermBits, len(All))
	for i, p := range All {
		if p != PermPublic {
			m[p] = 1 << i
		}
	}
	return m
}()

func bitOf(p Permission) parley.PermBits { return bits[p] }

// Bits returns the mask of a set of permissions; unknown ones add nothing.
func Bits(ps ...Permission) parley.PermBits {
	var b parley.PermBits
	for _, p := range ps {
		b |= bits[p]
	}
	return b
}

// Permissions lists the permissions in a mask, in the order of All.
func Permissions(b parley.PermBits) []Permission {
	var out []Permission
	for _, p := range All {
		if b&bits[p] != 0 {
			out = append(out, p)
		}
	}
	return out
}

var builtinBits = func() map[parley.Role]parley.PermBits {
	m := make(map[parley.Role]parley.PermBits, len(builtin))
	for r, ps := range builtin {
		m[r] = Bits(ps...)
	}
	return m
}()

// Duty is one of the three administrator domains of MLPS 2.0 8.1.5 (Z10).
type Duty string

const (
	DutySystem   Duty = "system"
	DutySecurity Duty = "security"
	DutyAudit    Duty = "audit"
)

// duties assigns the permissions that make their holder one of the three
// administrators. A person's roles together may reach into one duty at
// most, whatever mix of built-in and custom roles carries them (Z10).
var duties = map[Permission]Duty{
	PermUsersCreate:        DutySystem,
	PermUsersManage:        DutySystem,
	PermDepartmentsManage:  DutySystem,
	PermSystemInfo:         DutySystem,
	PermSecurityPolicy:     DutySecurity,
	PermRolesGrant:         DutySecurity,
	PermRolesManage:        DutySecurity,
	PermAuditRead:          DutyAudit,
	PermSupervisionApprove: DutyAudit,
}

// notCustom are permissions no custom role may carry: the security duty
// stays with the built-in security_admin (role grants and policy, Z10), and
// the ones every account holds anyway would only blur the role.
var notCustom = Bits(PermPublic, PermSelf, PermCredentials, PermSecurityPolicy, PermRolesGrant, PermRolesManage)

// CustomPrefix starts every custom role ID.
const CustomPrefix = "custom:"

// IsCustom reports whether r names a custom role.
func IsCustom(r parley.Role) bool { return strings.HasPrefix(string(r), CustomPrefix) }

// Catalog is the set of roles a deployment knows: the built-in ones and a
// snapshot of its custom roles.
type Catalog struct {
	custom map[parley.Role]parley.PermBits
}

var builtinCatalog = NewCatalog(nil)

// NewCatalog returns a catalog with the given custom roles. Permissions a
// custom role may not carry are dropped, so a row edited in the database
// cannot smuggle one in.
func NewCatalog(custom []*parley.CustomRole) *Catalog {
	c := &Catalog{custom: make(map[parley.Role]parley.PermBits, len(custom))}
	for _, r := range custom {
		var b parley.PermBits
		for _, p := range r.Permissions {
			b |= bits[Permission(p)]
		}
		c.custom[r.ID] = b &^ notCustom
	}
	return c
}

// Known reports whether r is a built-in role or one of the catalog's
// custom roles.
func (c *Catalog) Known(r parley.Role) bool {
	if _, ok := builtinBits[r]; ok {
		return true
	}
	_, ok := c.custom[r]
	return ok
}

// RoleBits returns the permissions of r; zero for an unknown role.
func (c *Catalog) RoleBits(r parley.Role) parley.PermBits {
	if b, ok := builtinBits[r]; ok {
		return b
	}
	return c.custom[r]
}

// scopable are the permissions whose services check the object's
// department (CheckOver, HoldsIn). A department-scoped grant confers only
// these: anything else it names would silently act organisation-wide, so
// it is dropped here and refused at grant time (Z6).
var scopable = Bits(PermSupervise, PermUsersUnlock, PermRolesRead)

// Unscopable lists the permissions of r that a department-scoped grant
// cannot confer.
func (c *Catalog) Unscopable(r parley.Role) []Permission {
	return Permissions(c.RoleBits(r) &^ scopable &^ builtinBits[parley.RoleUser])
}

// Resolve computes what grants allow, one entry per scope.
func (c *Catalog) Resolve(grants []parley.RoleGrant) []parley.ScopedPerms {
	out := make([]parley.ScopedPerms, 0, 2)
	for _, g := range grants {
		b := c.RoleBits(g.Role)
		if g.Scope != "" {
			b &= scopable
		}
		if b == 0 {
			continue
		}
		i := slices.IndexFunc(out, func(sp parley.ScopedPerms) bool { return sp.Scope == g.Scope })
		if i < 0 {
			out = append(out, parley.ScopedPerms{Scope: g.Scope, Bits: b})
		} else {
			out[i].Bits |= b
		}
	}
	return out
}

// Duties returns the administrator duties the roles reach into.
func (c *Catalog) Duties(roles []parley.Role) []Duty {
	var b parley.PermBits
	for _, r := range roles {
		b |= c.RoleBits(r)
	}
	var out []Duty
	for p, d := range duties {
		if b&bits[p] != 0 && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// IsAdmin reports whether r carries any permission beyond the "user" role:
// such a role needs MFA (A2) and no service account may hold it (Z11).
func (c *Catalog) IsAdmin(r parley.Role) bool {
	return c.RoleBits(r)&^builtinBits[parley.RoleUser] != 0
}

// CheckRoleSet refuses a set of roles that names an unknown role or
// reaches into more than one administrator duty (Z10).
func (c *Catalog) CheckRoleSet(roles []parley.Role) error {
	for _, r := range roles {
		if !c.Known(r) {
			return parley.Errorf(parley.CodeInvalid, "unknown role %q", r)
		}
	}
	if d := c.Duties(roles); len(d) > 1 {
		return parley.Errorf(parley.CodeInvalid,
			"separation of duties: nobody may hold more than one of system_admin, security_admin and auditor (or custom roles with their permissions)")
	}
	return nil
}

// CheckRoleSet is Catalog.CheckRoleSet for the built-in roles alone.
func CheckRoleSet(roles []parley.Role) error { return builtinCatalog.CheckRoleSet(roles) }

// CheckCustomPermissions validates the permission list of a custom role:
// known permissions, none reserved to built-in roles, one duty at most.
func CheckCustomPermissions(ps []string) error {
	if len(ps) == 0 {
		return parley.Errorf(parley.CodeInvalid, "a role needs at least one permission")
	}
	seen := map[Permission]bool{}
	var dutyOf Duty
	for _, s := range ps {
		p := Permission(s)
		b, ok := bits[p]
		if !ok {
			return parley.Errorf(parley.CodeInvalid, "unknown permission %q", truncate(s))
		}
		if b&notCustom != 0 {
			return parley.Errorf(parley.CodeInvalid, "permission %s cannot be part of a custom role", p)
		}
		if seen[p] {
			return parley.Errorf(parley.CodeInvalid, "permission %s listed twice", p)
		}
		seen[p] = true
		if d, ok := duties[p]; ok {
			if dutyOf != "" && dutyOf != d {
				return parley.Errorf(parley.CodeInvalid,
					"separation of duties: a role cannot combine %s and %s administration", dutyOf, d)
			}
			dutyOf = d
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// GrantsFromRoles turns plain roles into grants: organisation-wide, except
// department_admin, which covers the holder's own department.
func GrantsFromRoles(user parley.UserID, roles []parley.Role, dept parley.DepartmentID) []parley.RoleGrant {
	out := make([]parley.RoleGrant, 0, len(roles))
	for _, r := range roles {
		g := parley.RoleGrant{UserID: user, Role: r}
		if r == parley.RoleDepartmentAdmin {
			g.Scope = dept
		}
		out = append(out, g)
	}
	return out
}
