package main

import (
	"encoding/json"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// cleanText makes server-supplied text safe for a terminal: message bodies
// and names come from other users, and an escape sequence in them could
// rewrite the screen, retitle the window or worse. Control characters
// (C0, DEL, C1, and bidi overrides that disguise text) become U+FFFD;
// newlines and tabs survive.
func cleanText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), isBidiControl(r):
			return '\uFFFD'
		}
		return r
	}, s)
}

// cleanLine is cleanText for one-line fields: newlines and tabs become
// spaces so that a name cannot forge extra output lines.
func cleanLine(s string) string {
	s = cleanText(s)
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}

// isBidiControl reports the Unicode bidirectional formatting characters
// used in "Trojan Source" style spoofing.
func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069') || r == '\u200E' || r == '\u200F' || r == '\u061C'
}

// printJSON writes v as indented JSON (for --json). encoding/json escapes
// control characters, so no cleaning is needed.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table returns a writer that aligns tab-separated columns; call Flush.
func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// indentBody indents the continuation lines of a multi-line body so it
// stays visibly one message.
func indentBody(body string) string {
	return strings.ReplaceAll(cleanText(body), "\n", "\n    ")
}

// orDash shows empty fields as "-" so table columns stay aligned.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return cleanLine(s)
}
