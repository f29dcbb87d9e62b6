package wire

// UpdateDepartmentRequest renames and/or moves a department; absent fields
// stay as they are.
type UpdateDepartmentRequest struct {
	Name     *string `json:"name,omitempty"`
	ParentID *string `json:"parent_id,omitempty"`
}

// MergeDepartmentRequest folds a department into another.
type MergeDepartmentRequest struct {
	Into string `json:"into"`
}

// UpdateUserRequest changes another account's directory entry (system
// admins); absent fields stay as they are. Roles, status, kind and the
// username have their own operations: naming them here is refused like
// any unknown field (no mass assignment).
type UpdateUserRequest struct {
	DisplayName  *string `json:"display_name,omitempty"`
	DepartmentID *string `json:"department_id,omitempty"`
	Title        *string `json:"title,omitempty"` // "" clears it
}

// UpdateMeRequest changes the caller's own display name, the one field of
// the directory entry a user owns.
type UpdateMeRequest struct {
	DisplayName *string `json:"display_name,omitempty"`
}
