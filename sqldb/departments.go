package sqldb

import (
	"context"

	"github.com/parleyhq/parley"
)

// UpdateDepartment sets d's name and parent.
func (db *DB) UpdateDepartment(ctx context.Context, d *parley.Department) error {
	err := db.execOne(ctx, `UPDATE departments SET name = ?, parent_id = ? WHERE id = ?`,
		d.Name, nullString(d.ParentID), string(d.ID))
	return wrap("sqldb.UpdateDepartment", err)
}

// MergeDepartment re-homes from's members and children under into and
// deletes from, atomically: nobody is ever left in a deleted department.
func (db *DB) MergeDepartment(ctx context.Context, from, into parley.DepartmentID) error {
	return db.writeTx(ctx, "sqldb.MergeDepartment", func(t *tx) error {
		if _, err := t.exec(`UPDATE users SET department_id = ? WHERE department_id = ?`, string(into), string(from)); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE departments SET parent_id = ? WHERE parent_id = ?`, string(into), string(from)); err != nil {
			return err
		}
		// Grants scoped to the merged department now cover the one it
		// merged into; a holder who already has that grant keeps one.
		if _, err := t.exec(`DELETE FROM role_grants WHERE scope = ? AND EXISTS (SELECT 1 FROM role_grants o
			WHERE o.user_id = role_grants.user_id AND o.role = role_grants.role AND o.scope = ?)`, string(from), string(into)); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE role_grants SET scope = ? WHERE scope = ?`, string(into), string(from)); err != nil {
			return err
		}
		res, err := t.exec(`DELETE FROM departments WHERE id = ?`, string(from))
		if err != nil {
			return err
		}
		return oneRow(res)
	})
}
