package parley

import (
	"unicode"
	"unicode/utf8"
)

// CleanText reports whether s is valid UTF-8 free of control characters, of
// the bidirectional controls used to disguise text ("Trojan Source"), of
// invisible format characters (zero-width space, word joiner, soft hyphen,
// BOM, …) and of words that mix Latin, Greek and Cyrillic letters — the
// look-alikes of "Pаypal" (Cyrillic а) or "ad\u200bmin" that impersonate a
// name (I2, I3). Names and titles must be clean; message bodies may hold
// newlines and any script, so they are checked separately.
//
// Text written in one of those scripts, or in any other (张伟, Алексей,
// محمد), is clean; so are emoji sequences joined by U+200D and the
// zero-width non-joiner between letters of scripts that need it.
func CleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	var prev rune
	word := 0 // the scripts of the current word: bits of confusable
	for i, r := range s {
		if unicode.IsControl(r) || isBidiControl(r) {
			return false
		}
		if unicode.Is(unicode.Cf, r) && !joinerAllowed(r, prev, s[i+utf8.RuneLen(r):]) {
			return false
		}
		switch {
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
			word |= confusableScript(r)
			if word&(word-1) != 0 { // two scripts in one word
				return false
			}
		case unicode.IsDigit(r) || unicode.Is(unicode.Cf, r):
		default:
			word = 0
		}
		prev = r
	}
	return true
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}

// confusableScript returns a bit for the scripts whose letters look alike
// (Latin, Greek, Cyrillic) and 0 for every other rune.
func confusableScript(r rune) int {
	switch {
	case r < utf8.RuneSelf:
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
			return 1
		}
		return 0
	case unicode.Is(unicode.Latin, r):
		return 1
	case unicode.Is(unicode.Greek, r):
		return 2
	case unicode.Is(unicode.Cyrillic, r):
		return 4
	}
	return 0
}

// joinerAllowed admits the two format characters that writing needs: the
// zero-width joiner between two non-ASCII symbols or letters (emoji
// sequences, Indic conjuncts) and the zero-width non-joiner between two
// letters outside Latin, Greek and Cyrillic (Persian, Indic). Either one
// next to Latin, Greek or Cyrillic text only hides a character.
func joinerAllowed(r, prev rune, rest string) bool {
	if r != 0x200C && r != 0x200D {
		return false
	}
	next, _ := utf8.DecodeRuneInString(rest)
	ok := func(x rune) bool {
		if x < utf8.RuneSelf || confusableScript(x) != 0 || x == utf8.RuneError {
			return false
		}
		return unicode.IsLetter(x) || unicode.Is(unicode.Mn, x) || unicode.Is(unicode.Mc, x) ||
			(r == 0x200D && (unicode.Is(unicode.So, x) || unicode.Is(unicode.Sk, x) || x == 0xFE0F))
	}
	return ok(prev) && ok(next)
}
