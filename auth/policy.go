package auth

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/auth/breached"
)

const (
	maxUsernameLen = 64
	maxPasswordLen = parley.MaxPasswordBytes // argon2id takes any length; bound the work and the body
)

// checkNewPassword checks a password someone wants to set against the
// policy in force, the user's names and the organisation's name. hasMFA
// picks the minimum length (NIST: 8 with a second factor, 15 without).
func (s *Service) checkNewPassword(ctx context.Context, p parley.PasswordPolicy, password, username, displayName string, hasMFA bool) error {
	if len(password) > maxPasswordLen { // before any other work (A7)
		return parley.Errorf(parley.CodeInvalid, "password must be at most %d bytes", maxPasswordLen)
	}
	org, err := s.orgName(ctx)
	if err != nil {
		return err
	}
	return checkPassword(p, password, passwordSubject{Username: username, DisplayName: displayName, OrgName: org, HasMFA: hasMFA})
}

// orgName is the name of the root department: the organisation's name,
// which a password must not contain. Empty before the first setup.
func (s *Service) orgName(ctx context.Context) (string, error) {
	deps, err := s.store.ListDepartments(ctx)
	if err != nil {
		return "", err
	}
	for _, d := range deps {
		if d.ParentID == "" {
			return d.Name, nil
		}
	}
	return "", nil
}

// passwordSubject is what a password must not contain, and whether its
// owner has a second factor.
type passwordSubject struct {
	Username, DisplayName, OrgName string
	HasMFA                         bool
}

// checkPassword says which rule of p a password breaks, if any (A3). The
// message names the rule and never echoes the password. Rules, in order:
// length cap, UTF-8, minimum length (in characters), the four character
// classes when required, no username, display name or organisation name
// inside (case-insensitively), and not on the common/breached list.
func checkPassword(p parley.PasswordPolicy, password string, who passwordSubject) error {
	switch {
	case len(password) > maxPasswordLen:
		return parley.Errorf(parley.CodeInvalid, "password must be at most %d bytes", maxPasswordLen)
	case !utf8.ValidString(password):
		return parley.Errorf(parley.CodeInvalid, "password must be valid UTF-8")
	}
	if min := p.MinLengthFor(who.HasMFA); utf8.RuneCountInString(password) < min {
		return parley.Errorf(parley.CodeInvalid, "password must be at least %d characters", min)
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
	if who.Username != "" && strings.Contains(lp, strings.ToLower(who.Username)) {
		return parley.Errorf(parley.CodeInvalid, "password must not contain the username")
	}
	if containsName(lp, who.DisplayName) {
		return parley.Errorf(parley.CodeInvalid, "password must not contain the display name")
	}
	if containsName(lp, who.OrgName) {
		return parley.Errorf(parley.CodeInvalid, "password must not contain the organisation name")
	}
	if breached.Contains(password) {
		return parley.Errorf(parley.CodeInvalid, "password is on the list of common or breached passwords")
	}
	return nil
}

// containsName reports whether lower-cased password lp contains name or
// any word of it of four characters or more ("Sun Wukong" catches
// "wukong"); shorter words would refuse too much by accident.
func containsName(lp, name string) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	if utf8.RuneCountInString(name) >= 4 && strings.Contains(lp, name) {
		return true
	}
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if utf8.RuneCountInString(w) >= 4 && strings.Contains(lp, w) {
			return true
		}
	}
	return false
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

// ValidateDisplayName allows 1–128 printable characters without control,
// invisible or bidirectional-override characters or mixed-script words
// (which can disguise text, I3). The rule is parley.ValidateDisplayName,
// which the directory applies to later changes too.
func ValidateDisplayName(name string) error { return parley.ValidateDisplayName(name) }
