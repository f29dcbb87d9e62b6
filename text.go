package parley

import (
	"unicode"
	"unicode/utf8"
)

// CleanText reports whether s is valid UTF-8 free of control characters and
// of the bidirectional controls used to disguise text ("Trojan Source").
// Names and titles must be clean; message bodies may hold newlines and any
// script, so they are checked separately.
func CleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || isBidiControl(r) {
			return false
		}
	}
	return true
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}
