package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// usernameKey is the form in which usernames are unique and looked up:
// lower-cased, so that "Alice" and "alice" are one account and neither can
// impersonate the other.
func usernameKey(name string) string { return strings.ToLower(name) }

const userColumns = `id, username, display_name, COALESCE(department_id, ''), status, password_hash,
	password_changed_at, totp_secret_sealed, mfa_enrolled, totp_last_step, created_at,
	kind, end_at, last_login_at, disabled_at, disabled_by, disabled_reason, title`

func scanUser(row interface{ Scan(...any) error }) (*parley.User, error) {
	var (
		u                    parley.User
		changedAt, createdAt int64
		endAt, lastLogin     int64 // lifecycle (Z8, Z11; lifecycle.go)
		disabledAt           int64
	)
	if err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.DepartmentID, &u.Status, &u.PasswordHash,
		&changedAt, &u.TOTPSecretSealed, &u.MFAEnrolled, &u.TOTPLastStep, &createdAt,
		&u.Kind, &endAt, &lastLogin, &disabledAt, &u.DisabledBy, &u.DisabledReason, &u.Title); err != nil {
		return nil, err
	}
	u.PasswordChangedAt, u.CreatedAt = tm(changedAt), tm(createdAt)
	u.EndAt, u.LastLoginAt, u.DisabledAt = tm(endAt), tm(lastLogin), tm(disabledAt)
	return &u, nil
}

// CreateUser inserts u and its roles in one transaction. An empty Kind is
// stored (and set on u) as a person's account.
func (db *DB) CreateUser(ctx context.Context, u *parley.User) error {
	if u.Kind == "" {
		u.Kind = parley.AccountPerson
	}
	return db.writeTx(ctx, "sqldb.CreateUser", func(t *tx) error {
		if _, err := t.exec(`INSERT INTO users (id, username, username_key, display_name, display_name_key,
			department_id, status, password_hash, password_changed_at, totp_secret_sealed, mfa_enrolled,
			totp_last_step, created_at, kind, end_at, last_login_at, disabled_at, disabled_by, disabled_reason, title)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			string(u.ID), u.Username, usernameKey(u.Username), u.DisplayName, strings.ToLower(u.DisplayName),
			nullString(u.DepartmentID), string(u.Status), u.PasswordHash, ts(u.PasswordChangedAt),
			nullBytes(u.TOTPSecretSealed), u.MFAEnrolled, u.TOTPLastStep, ts(u.CreatedAt),
			string(u.Kind), ts(u.EndAt), ts(u.LastLoginAt), ts(u.DisabledAt), string(u.DisabledBy), u.DisabledReason, u.Title); err != nil {
			return err
		}
		return insertGrants(t, u)
	})
}

// UserByID returns the user with its roles.
func (db *DB) UserByID(ctx context.Context, id parley.UserID) (*parley.User, error) {
	return db.userWhere(ctx, "sqldb.UserByID", `id = ?`, string(id))
}

// UserByUsername looks the name up case-insensitively.
func (db *DB) UserByUsername(ctx context.Context, username string) (*parley.User, error) {
	return db.userWhere(ctx, "sqldb.UserByUsername", `username_key = ?`, usernameKey(username))
}

// userWhere loads one user by a constant condition on an indexed column.
func (db *DB) userWhere(ctx context.Context, op, cond string, arg any) (*parley.User, error) {
	s, err := db.stmt(ctx, db.reader, `SELECT `+userColumns+` FROM users WHERE `+cond)
	if err != nil {
		return nil, parley.Internal(op, err)
	}
	u, err := scanUser(s.QueryRowContext(ctx, arg))
	if err != nil {
		if err == sql.ErrNoRows {
			return nil, notFound(op, "user")
		}
		return nil, wrap(op, err)
	}
	if err := db.loadRoles(ctx, []*parley.User{u}); err != nil {
		return nil, wrap(op, err)
	}
	return u, nil
}

// loadRoles fills Grants and Roles of users with one query per chunk.
func (db *DB) loadRoles(ctx context.Context, users []*parley.User) error {
	byID := make(map[parley.UserID]*parley.User, len(users))
	ids := make([]any, 0, len(users))
	for _, u := range users {
		byID[u.ID] = u
		u.Roles, u.Grants = nil, nil
		ids = append(ids, string(u.ID))
	}
	return forChunks(ids, func(chunk []any) error {
		list, chunk := inList(chunk)
		rows, err := db.query(ctx, `SELECT `+grantColumns+` FROM role_grants WHERE user_id IN (`+list+`)
			ORDER BY user_id, role, scope`, chunk...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			g, err := scanGrant(rows)
			if err != nil {
				return err
			}
			if u := byID[g.UserID]; u != nil {
				u.Grants = append(u.Grants, *g)
				if !u.HasRole(g.Role) {
					u.Roles = append(u.Roles, g.Role)
				}
			}
		}
		return rows.Err()
	})
}

// ListUsers returns up to limit users whose username or display name
// contains query, case-insensitively, ordered by username.
func (db *DB) ListUsers(ctx context.Context, query string, limit int) ([]*parley.User, error) {
	pattern := likePattern(query)
	return db.listUsers(ctx, "sqldb.ListUsers", limit, `SELECT `+userColumns+` FROM users
		WHERE username_key LIKE ? ESCAPE '\' OR display_name_key LIKE ? ESCAPE '\'
		ORDER BY username_key LIMIT ?`, pattern, pattern, limit)
}

// ListUsersInDepartment is ListUsers limited to the users of dept and its
// sub-departments, found by a recursive query over the tree in the same
// statement (both databases have WITH RECURSIVE). UNION, not UNION ALL:
// a department reached twice ends the recursion there, so even a corrupt
// cycle in the tree terminates.
func (db *DB) ListUsersInDepartment(ctx context.Context, dept parley.DepartmentID, query string, limit int) ([]*parley.User, error) {
	pattern := likePattern(query)
	return db.listUsers(ctx, "sqldb.ListUsersInDepartment", limit, `WITH RECURSIVE subtree (id) AS (
			SELECT id FROM departments WHERE id = ?
			UNION
			SELECT d.id FROM departments d JOIN subtree s ON d.parent_id = s.id)
		SELECT `+userColumns+` FROM users
		WHERE department_id IN (SELECT id FROM subtree)
			AND (username_key LIKE ? ESCAPE '\' OR display_name_key LIKE ? ESCAPE '\')
		ORDER BY username_key LIMIT ?`, string(dept), pattern, pattern, limit)
}

// likePattern matches query as a case-insensitive substring.
func likePattern(query string) string {
	return "%" + escapeLike(strings.ToLower(query)) + "%"
}

// listUsers runs a query selecting userColumns and loads the users' roles.
func (db *DB) listUsers(ctx context.Context, op string, limit int, q string, args ...any) ([]*parley.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var users []*parley.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	if err := db.loadRoles(ctx, users); err != nil {
		return nil, wrap(op, err)
	}
	return users, nil
}

// UpdateUserProfile sets the fields of upd that are not nil in one
// statement (a NULL argument keeps the column through COALESCE), so that
// two administrators changing different fields at once do not undo each
// other. An unknown department is a foreign-key violation: CodeNotFound.
func (db *DB) UpdateUserProfile(ctx context.Context, id parley.UserID, upd parley.UserUpdate) error {
	var name, nameKey any
	if upd.DisplayName != nil {
		name, nameKey = *upd.DisplayName, strings.ToLower(*upd.DisplayName)
	}
	err := db.execOne(ctx, `UPDATE users SET display_name = COALESCE(?, display_name),
		display_name_key = COALESCE(?, display_name_key), department_id = COALESCE(?, department_id),
		title = COALESCE(?, title) WHERE id = ?`,
		name, nameKey, optString(upd.DepartmentID), optString(upd.Title), string(id))
	return userErr("sqldb.UpdateUserProfile", err)
}

// optString is *p, or NULL for nil.
func optString[S ~string](p *S) any {
	if p == nil {
		return nil
	}
	return string(*p)
}

// escapeLike makes s match literally inside a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CountUsers returns the number of accounts.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.get(ctx, `SELECT COUNT(*) FROM users`, nil, &n); err != nil {
		return 0, wrap("sqldb.CountUsers", err)
	}
	return n, nil
}

// AnyUserWithRole reports whether an active user holds role.
func (db *DB) AnyUserWithRole(ctx context.Context, role parley.Role) (bool, error) {
	var found bool
	err := db.get(ctx, `SELECT EXISTS (SELECT 1 FROM role_grants r JOIN users u ON u.id = r.user_id
		WHERE r.role = ? AND u.status = ?)`, []any{string(role), string(parley.UserActive)}, &found)
	if err != nil {
		return false, wrap("sqldb.AnyUserWithRole", err)
	}
	return found, nil
}

// SetPasswordHash replaces the user's password hash.
func (db *DB) SetPasswordHash(ctx context.Context, id parley.UserID, hash string, changedAt time.Time) error {
	const op = "sqldb.SetPasswordHash"
	err := db.execOne(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?`, hash, ts(changedAt), string(id))
	return userErr(op, err)
}

// SetTOTP stores the sealed TOTP secret (nil removes it) and whether it is
// confirmed. The last used step is kept: time steps only move forward, so
// keeping it can refuse nothing legitimate.
func (db *DB) SetTOTP(ctx context.Context, id parley.UserID, sealed []byte, enrolled bool) error {
	const op = "sqldb.SetTOTP"
	err := db.execOne(ctx, `UPDATE users SET totp_secret_sealed = ?, mfa_enrolled = ? WHERE id = ?`, nullBytes(sealed), enrolled, string(id))
	return userErr(op, err)
}

// AdvanceTOTPStep records step as used if it is newer than the last one.
// The compare-and-set happens in one UPDATE, so two logins racing with the
// same code cannot both succeed (A1 replay protection).
func (db *DB) AdvanceTOTPStep(ctx context.Context, id parley.UserID, step int64) (bool, error) {
	const op = "sqldb.AdvanceTOTPStep"
	res, err := db.exec(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, string(id), step)
	if err != nil {
		return false, wrap(op, err)
	}
	if err := oneRow(res); err == nil {
		return true, nil
	} else if err != sql.ErrNoRows {
		return false, wrap(op, err)
	}
	// Nothing changed: a replay, or no such user.
	var one int
	if err := db.get(ctx, `SELECT 1 FROM users WHERE id = ?`, []any{string(id)}, &one); err != nil {
		return false, userErr(op, err)
	}
	return false, nil
}

// ReplaceRecoveryCodes discards the user's codes and stores the new hashes.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, id parley.UserID, hashes [][]byte) error {
	const op = "sqldb.ReplaceRecoveryCodes"
	return db.writeTx(ctx, op, func(t *tx) error {
		var one int
		if err := t.get(`SELECT 1 FROM users WHERE id = ?`, []any{string(id)}, &one); err != nil {
			return userErr(op, err)
		}
		if _, err := t.exec(`DELETE FROM recovery_codes WHERE user_id = ?`, string(id)); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := t.exec(`INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, string(id), h); err != nil {
				return err
			}
		}
		return nil
	})
}

// ConsumeRecoveryCode deletes the code with this hash. The DELETE is the
// check, so one code cannot be used twice even concurrently.
func (db *DB) ConsumeRecoveryCode(ctx context.Context, id parley.UserID, hash []byte) error {
	const op = "sqldb.ConsumeRecoveryCode"
	err := db.execOne(ctx, `DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?`, string(id), hash)
	if err == sql.ErrNoRows {
		return notFound(op, "recovery code")
	}
	return wrap(op, err)
}

// userErr names a missing row "user".
func userErr(op string, err error) error {
	if err == sql.ErrNoRows {
		return notFound(op, "user")
	}
	return wrap(op, err)
}

const departmentColumns = `id, COALESCE(parent_id, ''), name, created_at`

func scanDepartment(row interface{ Scan(...any) error }) (*parley.Department, error) {
	var d parley.Department
	var createdAt int64
	if err := row.Scan(&d.ID, &d.ParentID, &d.Name, &createdAt); err != nil {
		return nil, err
	}
	d.CreatedAt = tm(createdAt)
	return &d, nil
}

// CreateDepartment inserts d; an unknown parent is CodeNotFound.
func (db *DB) CreateDepartment(ctx context.Context, d *parley.Department) error {
	_, err := db.exec(ctx, `INSERT INTO departments (id, parent_id, name, created_at) VALUES (?, ?, ?, ?)`,
		string(d.ID), nullString(d.ParentID), d.Name, ts(d.CreatedAt))
	return wrap("sqldb.CreateDepartment", err)
}

// DepartmentByID returns one department.
func (db *DB) DepartmentByID(ctx context.Context, id parley.DepartmentID) (*parley.Department, error) {
	const op = "sqldb.DepartmentByID"
	s, err := db.stmt(ctx, db.reader, `SELECT `+departmentColumns+` FROM departments WHERE id = ?`)
	if err != nil {
		return nil, parley.Internal(op, err)
	}
	d, err := scanDepartment(s.QueryRowContext(ctx, string(id)))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "department")
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	return d, nil
}

// ListDepartments returns every department, ordered by name.
func (db *DB) ListDepartments(ctx context.Context) ([]*parley.Department, error) {
	const op = "sqldb.ListDepartments"
	rows, err := db.query(ctx, `SELECT `+departmentColumns+` FROM departments ORDER BY name, id`)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.Department
	for rows.Next() {
		d, err := scanDepartment(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// forChunks calls fn with consecutive pieces of args of at most
// maxInList, so that a long IN list stays under both databases' parameter
// limits.
func forChunks(args []any, fn func([]any) error) error {
	for len(args) > 0 {
		n := min(len(args), maxInList)
		if err := fn(args[:n]); err != nil {
			return err
		}
		args = args[n:]
	}
	return nil
}

// inListSizes are the only lengths an IN (…) list takes: args are padded up
// to the next one by repeating the last value (harmless in IN), so that a
// handful of prepared statements serve every count.
var inListSizes = [...]int{1, 4, 16, 64, 256}

const maxInList = 256

// inList returns the placeholders for args padded to a size of
// inListSizes, and the padded args. len(args) must be 1…maxInList.
func inList(args []any) (string, []any) {
	for _, size := range inListSizes {
		if len(args) <= size {
			padded := make([]any, size) // a copy: args may share its array with the caller's
			copy(padded, args)
			for i := len(args); i < size; i++ {
				padded[i] = args[len(args)-1]
			}
			return placeholders(size), padded
		}
	}
	panic("sqldb: IN list longer than maxInList")
}
