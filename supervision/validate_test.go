package supervision

import (
	"strings"
	"testing"
)

const reason = "Case 4711: complaint about conduct in sales chat"

func TestValidateReason(t *testing.T) {
	for in, ok := range map[string]bool{
		reason:                          true,
		"  ten chars!  ":                true, // trimmed: "ten chars!"
		"十个字的业务理由说明一下":                  true,
		"":                              false,
		"nine char":                     false,
		strings.Repeat("x", 500):        true,
		strings.Repeat("x", 501):        false,
		"two\nlines of reason":          false,
		"tab\tinside the reason":        false,
		"bidi \u202e override reason":   false,
		"zero\u200bwidth inside reason": false,
		"bad utf8 \xff in the reason":   false,
	} {
		got, err := validateReason(in)
		if (err == nil) != ok {
			t.Errorf("%q: err = %v, want ok=%v", in, err, ok)
		}
		if err == nil && got != strings.TrimSpace(in) {
			t.Errorf("%q: kept %q", in, got)
		}
	}
	for in, ok := range map[string]bool{"": true, "JIRA-123": true, "case#7/a.b_c:d": true, "has space": false,
		"ünï": false, strings.Repeat("a", 65): false} {
		if err := validateTicket(in); (err == nil) != ok {
			t.Errorf("ticket %q: err = %v, want ok=%v", in, err, ok)
		}
	}
}

// TestTruncate: identifiers from requests enter audit records as valid
// UTF-8 without control characters, at most 64 bytes.
func TestTruncate(t *testing.T) {
	for in, want := range map[string]string{
		"d_abc":                  "d_abc",
		"a\nb\x00c":              "a\uFFFDb\uFFFDc",
		"\xff":                   "\uFFFD",
		strings.Repeat("é", 40):  strings.Repeat("é", 32),
		strings.Repeat("x", 100): strings.Repeat("x", 64),
	} {
		if got := truncate(in); got != want {
			t.Errorf("truncate(%q) = %q, want %q", in, got, want)
		}
	}
}
