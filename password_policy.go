package parley

import "time"

// Password policy profiles (A3). Each is a preset of every field of
// PasswordPolicy and fixes what may be changed without leaving the profile
// (see PasswordPolicy.Validate).
const (
	// ProfileChecklist is the audit checklist's policy and the default:
	// 12 characters, four character classes, no reuse of the last 5,
	// expiry after 90 days (at most 180), 5 failures lock for 30 minutes.
	ProfileChecklist = "checklist"
	// ProfileNIST follows NIST SP 800-63B rev. 4 / OWASP ASVS 5: 15
	// characters without MFA and 8 with, no composition rules, no periodic
	// expiry.
	ProfileNIST = "nist"
	// ProfileMLPS3 is MLPS 2.0 level 3: checklist composition and history,
	// a change every 90 days, and MFA with a cryptographic factor for every
	// user (A10).
	ProfileMLPS3 = "mlps3"
)

// Bounds every policy keeps, whatever its profile.
const (
	// MaxPasswordBytes caps a password before it is hashed: argon2id takes
	// any length, so the cap bounds the work and the body (A7, I2).
	MaxPasswordBytes = 256
	// PasswordMinLengthFloor is the shortest minimum length a policy may
	// set: NIST's floor even with MFA. The breached list omits shorter
	// entries for that reason.
	PasswordMinLengthFloor = 8
	// MaxPasswordAgeDays is the longest expiry the checklist and mlps3
	// profiles allow (A3: "configurable, at most 180").
	MaxPasswordAgeDays = 180
	// MaxPasswordHistory bounds the history a policy may demand; the store
	// keeps this many old hashes so that raising the count later has data.
	MaxPasswordHistory = 24
)

// PasswordPolicy is the password rule set (A3): data in the database,
// changed by a security admin through the audited API (Z10), and the
// same on every node. Durations are whole days and minutes, as an
// administrator states them.
type PasswordPolicy struct {
	Profile string `json:"profile"`
	// MinLength applies to users without MFA, MinLengthWithMFA to users
	// with a second factor (NIST: 15 and 8; the checklist: 12 for all).
	MinLength        int `json:"min_length"`
	MinLengthWithMFA int `json:"min_length_with_mfa"`
	// RequireClasses demands an upper-case and a lower-case letter, a
	// digit and a special character.
	RequireClasses bool `json:"require_classes"`
	// HistoryCount: a new password may not equal any of the user's last
	// HistoryCount passwords, the current one included; 0 allows reuse.
	HistoryCount int `json:"history_count"`
	// MaxAgeDays: a password older than this must be changed before the
	// session may do anything else; 0 means no periodic expiry.
	MaxAgeDays int `json:"max_age_days"`
	// LockoutThreshold consecutive failures lock the account for
	// LockoutMinutes (A3, A9).
	LockoutThreshold int `json:"lockout_threshold"`
	LockoutMinutes   int `json:"lockout_minutes"`
	// MFAForAll demands a second factor of every user (mlps3, A10): a
	// user without one is held at the enrolment gate.
	MFAForAll bool `json:"mfa_for_all"`
}

// PasswordPreset returns the preset of a profile; ok is false for an
// unknown profile name.
func PasswordPreset(profile string) (p PasswordPolicy, ok bool) {
	switch profile {
	case ProfileChecklist:
		return PasswordPolicy{Profile: ProfileChecklist, MinLength: 12, MinLengthWithMFA: 12, RequireClasses: true,
			HistoryCount: 5, MaxAgeDays: 90, LockoutThreshold: 5, LockoutMinutes: 30}, true
	case ProfileNIST:
		// 800-63B rev. 4 §3.1.1.2: no composition rules, no periodic
		// change; lockout is still allowed ("rate limiting"), and the
		// checklist's numbers keep the audit happy.
		return PasswordPolicy{Profile: ProfileNIST, MinLength: 15, MinLengthWithMFA: 8, RequireClasses: false,
			HistoryCount: 0, MaxAgeDays: 0, LockoutThreshold: 5, LockoutMinutes: 30}, true
	case ProfileMLPS3:
		return PasswordPolicy{Profile: ProfileMLPS3, MinLength: 12, MinLengthWithMFA: 12, RequireClasses: true,
			HistoryCount: 5, MaxAgeDays: 90, LockoutThreshold: 5, LockoutMinutes: 30, MFAForAll: true}, true
	}
	return PasswordPolicy{}, false
}

// DefaultPasswordPolicy is the policy of a deployment that never set one:
// the checklist (A3).
func DefaultPasswordPolicy() PasswordPolicy {
	p, _ := PasswordPreset(ProfileChecklist)
	return p
}

// MaxAge is the password lifetime, 0 for none.
func (p PasswordPolicy) MaxAge() time.Duration { return time.Duration(p.MaxAgeDays) * 24 * time.Hour }

// LockoutDuration is how long a lock lasts.
func (p PasswordPolicy) LockoutDuration() time.Duration {
	return time.Duration(p.LockoutMinutes) * time.Minute
}

// MinLengthFor is the minimum length for a user with or without MFA.
func (p PasswordPolicy) MinLengthFor(hasMFA bool) int {
	if hasMFA {
		return p.MinLengthWithMFA
	}
	return p.MinLength
}

// Validate checks the policy's bounds and that it keeps the promises of
// its profile: checklist and mlps3 expire passwords after at most 180 days
// and keep composition rules (A3); nist has neither composition rules nor
// periodic expiry (800-63B rev. 4); mlps3 demands MFA of everyone (A10).
// The message names the field at fault.
func (p PasswordPolicy) Validate() error {
	if _, ok := PasswordPreset(p.Profile); !ok {
		return Errorf(CodeInvalid, "profile must be %q, %q or %q", ProfileChecklist, ProfileNIST, ProfileMLPS3)
	}
	switch {
	case p.MinLength < PasswordMinLengthFloor || p.MinLength > 128:
		return Errorf(CodeInvalid, "min_length must be %d to 128", PasswordMinLengthFloor)
	case p.MinLengthWithMFA < PasswordMinLengthFloor || p.MinLengthWithMFA > p.MinLength:
		return Errorf(CodeInvalid, "min_length_with_mfa must be %d to min_length", PasswordMinLengthFloor)
	case p.HistoryCount < 0 || p.HistoryCount > MaxPasswordHistory:
		return Errorf(CodeInvalid, "history_count must be 0 to %d", MaxPasswordHistory)
	case p.MaxAgeDays < 0 || p.MaxAgeDays > 3650:
		return Errorf(CodeInvalid, "max_age_days must be 0 to 3650")
	case p.LockoutThreshold < 1 || p.LockoutThreshold > 20:
		return Errorf(CodeInvalid, "lockout_threshold must be 1 to 20")
	case p.LockoutMinutes < 1 || p.LockoutMinutes > 24*60:
		return Errorf(CodeInvalid, "lockout_minutes must be 1 to 1440 (24 hours)")
	}
	switch p.Profile {
	case ProfileChecklist, ProfileMLPS3:
		if p.MaxAgeDays < 1 || p.MaxAgeDays > MaxPasswordAgeDays {
			return Errorf(CodeInvalid, "max_age_days must be 1 to %d under the %s profile", MaxPasswordAgeDays, p.Profile)
		}
		if !p.RequireClasses {
			return Errorf(CodeInvalid, "require_classes must be true under the %s profile", p.Profile)
		}
		if p.MinLengthWithMFA != p.MinLength {
			return Errorf(CodeInvalid, "min_length_with_mfa must equal min_length under the %s profile", p.Profile)
		}
	case ProfileNIST:
		if p.RequireClasses {
			return Errorf(CodeInvalid, "require_classes must be false under the nist profile (no composition rules)")
		}
		if p.MaxAgeDays != 0 {
			return Errorf(CodeInvalid, "max_age_days must be 0 under the nist profile (no periodic expiry)")
		}
	}
	if p.Profile == ProfileMLPS3 && !p.MFAForAll {
		return Errorf(CodeInvalid, "mfa_for_all must be true under the mlps3 profile")
	}
	return nil
}

// Login notices (LoginResult.Notices): things the user must be told when
// they next log in.
const (
	// NoticeAccountWasLocked: the account was locked by failed logins
	// since the user's last successful one (A9 "the user is told of a
	// lock").
	NoticeAccountWasLocked = "account_was_locked"
	// NoticePasswordExpired: the password is older than the policy allows;
	// the session may only change it (A3).
	NoticePasswordExpired = "password_expired"
)
