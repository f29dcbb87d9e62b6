package wire

// Bodies of the password feature (A3, A9): the policy as data, the password
// change, and the admin unlock.

// PasswordPolicy is the password policy in force (GET and PUT
// /api/v1/policy/password). Durations are whole days and minutes.
type PasswordPolicy struct {
	Profile          string `json:"profile"` // "checklist", "nist" or "mlps3"
	MinLength        int    `json:"min_length"`
	MinLengthWithMFA int    `json:"min_length_with_mfa"`
	RequireClasses   bool   `json:"require_classes"`
	HistoryCount     int    `json:"history_count"`
	MaxAgeDays       int    `json:"max_age_days"` // 0: no periodic expiry
	LockoutThreshold int    `json:"lockout_threshold"`
	LockoutMinutes   int    `json:"lockout_minutes"`
	MFAForAll        bool   `json:"mfa_for_all"`
	// BreachedListSize is the number of entries on the offline list of
	// common and breached passwords that every profile refuses.
	BreachedListSize int `json:"breached_list_size"`
}

// PasswordPolicyUpdate sets the policy: the named profile's preset, with
// any field given here overriding it. {"profile":"nist"} selects a preset;
// a body with every field states a full policy.
type PasswordPolicyUpdate struct {
	Profile          string `json:"profile"`
	MinLength        *int   `json:"min_length,omitempty"`
	MinLengthWithMFA *int   `json:"min_length_with_mfa,omitempty"`
	RequireClasses   *bool  `json:"require_classes,omitempty"`
	HistoryCount     *int   `json:"history_count,omitempty"`
	MaxAgeDays       *int   `json:"max_age_days,omitempty"`
	LockoutThreshold *int   `json:"lockout_threshold,omitempty"`
	LockoutMinutes   *int   `json:"lockout_minutes,omitempty"`
	MFAForAll        *bool  `json:"mfa_for_all,omitempty"`
}

// ChangePasswordRequest replaces the caller's password.
type ChangePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}
