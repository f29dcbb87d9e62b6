package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

const grantColumns = `user_id, role, scope, granted_by, granted_at, last_used_at`

func scanGrant(row interface{ Scan(...any) error }) (*parley.RoleGrant, error) {
	var (
		g                 parley.RoleGrant
		grantedAt, usedAt int64
	)
	if err := row.Scan(&g.UserID, &g.Role, &g.Scope, &g.GrantedBy, &grantedAt, &usedAt); err != nil {
		return nil, err
	}
	g.GrantedAt, g.LastUsedAt = tm(grantedAt), tm(usedAt)
	return &g, nil
}

// insertGrants stores the grants of a new user: u.Grants, or one grant per
// role of u.Roles (department_admin scoped to the user's own department)
// when the caller set only roles.
func insertGrants(t *tx, u *parley.User) error {
	grants := u.Grants
	if len(grants) == 0 {
		for _, r := range u.Roles {
			g := parley.RoleGrant{UserID: u.ID, Role: r, GrantedAt: u.CreatedAt}
			if r == parley.RoleDepartmentAdmin {
				g.Scope = u.DepartmentID
			}
			grants = append(grants, g)
		}
	}
	for i := range grants {
		g := grants[i]
		g.UserID = u.ID
		if err := insertGrant(t, &g); err != nil {
			return err
		}
	}
	return nil
}

func insertGrant(t *tx, g *parley.RoleGrant) error {
	_, err := t.exec(`INSERT INTO role_grants (`+grantColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		string(g.UserID), string(g.Role), string(g.Scope), string(g.GrantedBy), ts(g.GrantedAt), ts(g.LastUsedAt))
	return err
}

// RevokeRole removes one grant.
func (db *DB) RevokeRole(ctx context.Context, user parley.UserID, role parley.Role, scope parley.DepartmentID) error {
	err := db.execOne(ctx, `DELETE FROM role_grants WHERE user_id = ? AND role = ? AND scope = ?`,
		string(user), string(role), string(scope))
	if err != nil {
		return wrap("sqldb.RevokeRole", err)
	}
	return nil
}

// RevokeAllRoles removes every grant but "user" and returns them.
func (db *DB) RevokeAllRoles(ctx context.Context, user parley.UserID) ([]*parley.RoleGrant, error) {
	var out []*parley.RoleGrant
	err := db.writeTx(ctx, "sqldb.RevokeAllRoles", func(t *tx) (err error) {
		out, err = revokeRolesTx(t, user)
		return err
	})
	return out, err
}

// ListGrants returns every grant, ordered by user, role and scope.
func (db *DB) ListGrants(ctx context.Context) ([]*parley.RoleGrant, error) {
	const op = "sqldb.ListGrants"
	rows, err := db.query(ctx, `SELECT `+grantColumns+` FROM role_grants ORDER BY user_id, role, scope`)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.RoleGrant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, g)
	}
	return out, wrap(op, rows.Err())
}

// TouchGrants records that the user used a permission of role at at.
func (db *DB) TouchGrants(ctx context.Context, user parley.UserID, role parley.Role, at time.Time) error {
	_, err := db.exec(ctx, `UPDATE role_grants SET last_used_at = ? WHERE user_id = ? AND role = ? AND last_used_at < ?`,
		ts(at), string(user), string(role), ts(at))
	return wrap("sqldb.TouchGrants", err)
}

const customRoleColumns = `id, name, description, permissions, created_by, created_at, updated_at`

// CreateCustomRole inserts r; a name clash (case-insensitive) is
// CodeConflict.
func (db *DB) CreateCustomRole(ctx context.Context, r *parley.CustomRole) error {
	_, err := db.exec(ctx, `INSERT INTO custom_roles (id, name, name_key, description, permissions, created_by,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		string(r.ID), r.Name, strings.ToLower(r.Name), r.Description, strings.Join(r.Permissions, " "),
		string(r.CreatedBy), ts(r.CreatedAt), ts(r.UpdatedAt))
	return wrap("sqldb.CreateCustomRole", err)
}

// UpdateCustomRole replaces name, description and permissions of r.ID.
func (db *DB) UpdateCustomRole(ctx context.Context, r *parley.CustomRole) error {
	err := db.execOne(ctx, `UPDATE custom_roles SET name = ?, name_key = ?, description = ?, permissions = ?,
		updated_at = ? WHERE id = ?`,
		r.Name, strings.ToLower(r.Name), r.Description, strings.Join(r.Permissions, " "), ts(r.UpdatedAt), string(r.ID))
	return wrap("sqldb.UpdateCustomRole", err)
}

// DeleteCustomRole deletes a role nobody holds.
func (db *DB) DeleteCustomRole(ctx context.Context, id parley.Role) error {
	return db.writeTx(ctx, "sqldb.DeleteCustomRole", func(t *tx) error {
		var held bool
		if err := t.get(`SELECT EXISTS (SELECT 1 FROM role_grants WHERE role = ?)`, []any{string(id)}, &held); err != nil {
			return err
		}
		if held {
			return &parley.Error{Code: parley.CodeConflict, Message: "the role is still granted; revoke it first", Op: "sqldb.DeleteCustomRole"}
		}
		res, err := t.exec(`DELETE FROM custom_roles WHERE id = ?`, string(id))
		if err != nil {
			return err
		}
		return oneRow(res)
	})
}

// CustomRoles lists every custom role by name.
func (db *DB) CustomRoles(ctx context.Context) ([]*parley.CustomRole, error) {
	const op = "sqldb.CustomRoles"
	rows, err := db.query(ctx, `SELECT `+customRoleColumns+` FROM custom_roles ORDER BY name_key`)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.CustomRole
	for rows.Next() {
		r, err := scanCustomRole(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, r)
	}
	return out, wrap(op, rows.Err())
}

func scanCustomRole(row interface{ Scan(...any) error }) (*parley.CustomRole, error) {
	var (
		r                    parley.CustomRole
		perms                string
		createdAt, updatedAt int64
	)
	if err := row.Scan(&r.ID, &r.Name, &r.Description, &perms, &r.CreatedBy, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	r.Permissions = strings.Fields(perms)
	r.CreatedAt, r.UpdatedAt = tm(createdAt), tm(updatedAt)
	return &r, nil
}

const grantRequestColumns = `id, user_id, role, scope, reason, requested_by, requested_at, expires_at, status, decided_by, decided_at`

func scanGrantRequest(row interface{ Scan(...any) error }) (*parley.GrantRequest, error) {
	var (
		r                           parley.GrantRequest
		requested, expires, decided int64
	)
	if err := row.Scan(&r.ID, &r.UserID, &r.Role, &r.Scope, &r.Reason, &r.RequestedBy, &requested, &expires,
		&r.Status, &r.DecidedBy, &decided); err != nil {
		return nil, err
	}
	r.RequestedAt, r.ExpiresAt, r.DecidedAt = tm(requested), tm(expires), tm(decided)
	return &r, nil
}

// CreateGrantRequest inserts a pending request.
func (db *DB) CreateGrantRequest(ctx context.Context, r *parley.GrantRequest) error {
	_, err := db.exec(ctx, `INSERT INTO grant_requests (`+grantRequestColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, string(r.UserID), string(r.Role), string(r.Scope), r.Reason, string(r.RequestedBy),
		ts(r.RequestedAt), ts(r.ExpiresAt), r.Status, string(r.DecidedBy), ts(r.DecidedAt))
	return wrap("sqldb.CreateGrantRequest", err)
}

// GrantRequestByID returns one request.
func (db *DB) GrantRequestByID(ctx context.Context, id string) (*parley.GrantRequest, error) {
	const op = "sqldb.GrantRequestByID"
	s, err := db.stmt(ctx, db.reader, `SELECT `+grantRequestColumns+` FROM grant_requests WHERE id = ?`)
	if err != nil {
		return nil, parley.Internal(op, err)
	}
	r, err := scanGrantRequest(s.QueryRowContext(ctx, id))
	if err != nil {
		return nil, wrap(op, err)
	}
	return r, nil
}

// ListGrantRequests returns requests in status (all if empty), newest first.
func (db *DB) ListGrantRequests(ctx context.Context, status string) ([]*parley.GrantRequest, error) {
	const op = "sqldb.ListGrantRequests"
	rows, err := db.query(ctx, `SELECT `+grantRequestColumns+` FROM grant_requests
		WHERE ? = '' OR status = ? ORDER BY requested_at DESC, id LIMIT 1000`, status, status)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.GrantRequest
	for rows.Next() {
		r, err := scanGrantRequest(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, r)
	}
	return out, wrap(op, rows.Err())
}

// DecideGrantRequest moves a pending request to status, once.
func (db *DB) DecideGrantRequest(ctx context.Context, id, status string, by parley.UserID, at time.Time) error {
	err := db.execOne(ctx, `UPDATE grant_requests SET status = ?, decided_by = ?, decided_at = ?
		WHERE id = ? AND status = ?`, status, string(by), ts(at), id, parley.GrantRequestPending)
	if err == sql.ErrNoRows {
		return &parley.Error{Code: parley.CodeConflict, Message: "the request is no longer pending", Op: "sqldb.DecideGrantRequest"}
	}
	return wrap("sqldb.DecideGrantRequest", err)
}

// roleState reads, inside t, the grants of users and every custom role.
func roleState(t *tx, users []parley.UserID) (map[parley.UserID][]parley.RoleGrant, []*parley.CustomRole, error) {
	grants := make(map[parley.UserID][]parley.RoleGrant, len(users))
	for _, u := range users {
		rows, err := t.query(`SELECT `+grantColumns+` FROM role_grants WHERE user_id = ? ORDER BY role, scope`, string(u))
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			g, err := scanGrant(rows)
			if err != nil {
				rows.Close()
				return nil, nil, err
			}
			grants[u] = append(grants[u], *g)
		}
		if err := rows.Close(); err != nil {
			return nil, nil, err
		}
	}
	custom, err := customRolesTx(t)
	return grants, custom, err
}

func customRolesTx(t *tx) ([]*parley.CustomRole, error) {
	rows, err := t.query(`SELECT ` + customRoleColumns + ` FROM custom_roles ORDER BY name_key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*parley.CustomRole
	for rows.Next() {
		r, err := scanCustomRole(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// GrantRoleChecked adds g after check approves the state under the roles
// lock (PostgreSQL: an advisory transaction lock; SQLite: the single
// writer connection already serialises write transactions).
func (db *DB) GrantRoleChecked(ctx context.Context, g *parley.RoleGrant, check parley.RoleCheck, approve *parley.GrantApproval) error {
	return db.writeTx(ctx, "sqldb.GrantRoleChecked", func(t *tx) error {
		if err := db.d.lock(ctx, t.tx, lockKeyRoles); err != nil {
			return err
		}
		if approve != nil {
			res, err := t.exec(`UPDATE grant_requests SET status = ?, decided_by = ?, decided_at = ?
				WHERE id = ? AND status = ?`, parley.GrantRequestApproved, string(approve.By), ts(approve.At),
				approve.RequestID, parley.GrantRequestPending)
			if err != nil {
				return err
			}
			if err := oneRow(res); err == sql.ErrNoRows {
				return &parley.Error{Code: parley.CodeConflict, Message: "the request is no longer pending", Op: "sqldb.GrantRoleChecked"}
			} else if err != nil {
				return err
			}
		}
		grants, custom, err := roleState(t, []parley.UserID{g.UserID})
		if err != nil {
			return err
		}
		if err := check(grants, custom); err != nil {
			return err
		}
		return insertGrant(t, g)
	})
}

// UpdateCustomRoleChecked changes r after check approves the holders'
// grants with r's new permissions, under the roles lock.
func (db *DB) UpdateCustomRoleChecked(ctx context.Context, r *parley.CustomRole, check parley.RoleCheck) error {
	return db.writeTx(ctx, "sqldb.UpdateCustomRoleChecked", func(t *tx) error {
		if err := db.d.lock(ctx, t.tx, lockKeyRoles); err != nil {
			return err
		}
		rows, err := t.query(`SELECT DISTINCT user_id FROM role_grants WHERE role = ?`, string(r.ID))
		if err != nil {
			return err
		}
		var holders []parley.UserID
		for rows.Next() {
			var u parley.UserID
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return err
			}
			holders = append(holders, u)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		grants, custom, err := roleState(t, holders)
		if err != nil {
			return err
		}
		for i := range custom {
			if custom[i].ID == r.ID {
				custom[i] = r
			}
		}
		if err := check(grants, custom); err != nil {
			return err
		}
		res, err := t.exec(`UPDATE custom_roles SET name = ?, name_key = ?, description = ?, permissions = ?,
			updated_at = ? WHERE id = ?`,
			r.Name, strings.ToLower(r.Name), r.Description, strings.Join(r.Permissions, " "), ts(r.UpdatedAt), string(r.ID))
		if err != nil {
			return err
		}
		return oneRow(res)
	})
}
