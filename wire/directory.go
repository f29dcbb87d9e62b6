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
