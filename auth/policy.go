package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

const (
	maxUsernameLen    = 64
	maxPasswordLen    = 256 // argon2id takes any length; bound the work and the body
	maxDisplayNameLen = 128
)

// PasswordPolicy is the password rule set (A3). It will become data in the
// database with the presets checklist, nist and mlps3 (identity issue); the
// checklist preset is the default.
type PasswordPolicy struct {
	MinLength      int
	RequireClasses bool // upper, lower, digit and special all required
}

// ChecklistPolicy is the audit checklist's rule: at least 12 characters
// with upper case, lower case, a digit and a special character.
func ChecklistPolicy() PasswordPolicy { return PasswordPolicy{MinLength: 12, RequireClasses: true} }

// Check says which rule a password breaks, if any. It never echoes the
// password.
func (p PasswordPolicy) Check(password, username, displayName string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return parley.Errorf(parley.CodeInvalid, "password must be valid UTF-8")
	case n < p.MinLength:
		return parley.Errorf(parley.CodeInvalid, "password must be at least %d characters", p.MinLength)
	case len(password) > maxPasswordLen:
		return parley.Errorf(parley.CodeInvalid, "password must be at most %d bytes", maxPasswordLen)
	}
	if p.RequireClasses {
		var upper, lower, digit, special bool
		for _, r := range password {
			switch {
			case unicode.IsUpper(r):
				upper = true
			case unicode.IsLower(r):
				lower = true
			case unicode.IsDigit(r):
				digit = true
			case unicode.IsPunct(r) || unicode.IsSymbol(r) || r == ' ':
				special = true
			}
		}
		if !upper || !lower || !digit || !special {
			return parley.Errorf(parley.CodeInvalid,
				"password must contain an upper-case letter, a lower-case letter, a digit and a special character")
		}
	}
	lp := strings.ToLower(password)
	if username != "" && strings.Contains(lp, strings.ToLower(username)) {
		return parley.Errorf(parley.CodeInvalid, "password must not contain the username")
	}
	if len(displayName) >= 4 && strings.Contains(lp, strings.ToLower(displayName)) {
		return parley.Errorf(parley.CodeInvalid, "password must not contain the display name")
	}
	return nil
}

// ValidateUsername allows 3–64 characters of ASCII letters, digits, '.', '_'
// and '-', starting with a letter or digit. ASCII only: look-alike letters
// from other scripts cannot impersonate a colleague (homoglyphs).
func ValidateUsername(name string) error {
	if len(name) < 3 || len(name) > maxUsernameLen {
		return parley.Errorf(parley.CodeInvalid, "username must be 3 to %d characters", maxUsernameLen)
	}
	for i, r := range name {
		ok := r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || (i > 0 && strings.ContainsRune("._-", r)))
		if !ok {
			return parley.Errorf(parley.CodeInvalid,
				"username may contain only ASCII letters, digits, '.', '_' and '-', and must start with a letter or digit")
		}
	}
	return nil
}

// ValidateDisplayName allows 1–128 printable characters without control or
// bidirectional-override characters (which can disguise text, I3).
func ValidateDisplayName(name string) error {
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > maxDisplayNameLen {
		return parley.Errorf(parley.CodeInvalid, "display_name must be 1 to %d characters", maxDisplayNameLen)
	}
	if !parley.CleanText(name) {
		return parley.Errorf(parley.CodeInvalid, "display_name contains control or bidirectional-override characters")
	}
	return nil
}
