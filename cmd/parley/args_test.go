package main

import (
	"bytes"
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/wire"
)

func testFlagsEnv() *env {
	return &env{stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
}

func TestParseArgsInterspersed(t *testing.T) {
	tests := []struct {
		args  []string
		pos   []string
		limit int
		json  bool
	}{
		{[]string{"c1"}, []string{"c1"}, 0, false},
		{[]string{"c1", "--limit", "5"}, []string{"c1"}, 5, false},
		{[]string{"--limit=5", "c1", "--json"}, []string{"c1"}, 5, true},
		{[]string{"c1", "c2", "-json"}, []string{"c1", "c2"}, 0, true},
		{[]string{"c1", "--", "--json"}, []string{"c1", "--json"}, 0, false},
		{[]string{"-", "c1"}, []string{"-", "c1"}, 0, false},
		{nil, []string{}, 0, false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		limit := fs.Int("limit", 0, "")
		asJSON := fs.Bool("json", false, "")
		pos, err := parseArgs(fs, tt.args)
		if err != nil || !reflect.DeepEqual(pos, tt.pos) || *limit != tt.limit || *asJSON != tt.json {
			t.Errorf("parseArgs(%q) = %q, limit %d, json %v, %v", tt.args, pos, *limit, *asJSON, err)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	if _, err := parseArgs(fs, []string{"c1", "--nope"}); err == nil {
		t.Error("unknown flag after a positional accepted")
	}
}

func TestParseSendArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    *sendArgs
		wantErr bool
	}{
		{args: []string{"c1", "hello", "world"}, want: &sendArgs{conv: "c1", text: []string{"hello", "world"}}},
		{args: []string{"c1", "-"}, want: &sendArgs{conv: "c1", fromStdin: true}},
		{args: []string{"--json", "c1", "hi"}, want: &sendArgs{conv: "c1", text: []string{"hi"}, json: true}},
		// After the conversation ID everything is text, dashes included.
		{args: []string{"c1", "--json", "-v"}, want: &sendArgs{conv: "c1", text: []string{"--json", "-v"}}},
		{args: []string{"c1", "-", "x"}, want: &sendArgs{conv: "c1", text: []string{"-", "x"}}},
		{args: []string{"c1"}, wantErr: true},
		{args: nil, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseSendArgs(testFlagsEnv(), tt.args)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseSendArgs(%q) accepted", tt.args)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseSendArgs(%q) = %+v, %v; want %+v", tt.args, got, err, tt.want)
		}
	}
}

func TestMessageBody(t *testing.T) {
	tests := []struct {
		a       sendArgs
		stdin   string
		want    string
		wantErr string
	}{
		{a: sendArgs{text: []string{"a", "b"}}, want: "a b"},
		{a: sendArgs{fromStdin: true}, stdin: "line 1\nline 2\n", want: "line 1\nline 2"},
		{a: sendArgs{fromStdin: true}, stdin: "crlf\r\n", want: "crlf"},
		{a: sendArgs{fromStdin: true}, stdin: "\n", wantErr: "empty"},
		{a: sendArgs{text: []string{" "}}, wantErr: "empty"},
		{a: sendArgs{fromStdin: true}, stdin: strings.Repeat("x", wire.MaxMessageLen+1), wantErr: "too_large"},
		{a: sendArgs{fromStdin: true}, stdin: strings.Repeat("x", wire.MaxMessageLen) + "\n", want: strings.Repeat("x", wire.MaxMessageLen)},
		{a: sendArgs{fromStdin: true}, stdin: "\xff", wantErr: "UTF-8"},
	}
	for i, tt := range tests {
		got, err := messageBody(&tt.a, strings.NewReader(tt.stdin))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%d: err = %v, want %q", i, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%d: body = %.40q, %v", i, got, err)
		}
	}
}

func TestParseHistoryArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    historyArgs
		wantErr bool
	}{
		{args: []string{"c1"}, want: historyArgs{conv: "c1", limit: 50}},
		{args: []string{"c1", "--after", "10", "--limit", "5"}, want: historyArgs{conv: "c1", after: 10, limit: 5}},
		{args: []string{"--before=9", "c1", "--json"}, want: historyArgs{conv: "c1", before: 9, limit: 50, json: true}},
		{args: []string{"c1", "--after", "1", "--before", "9"}, wantErr: true},
		{args: []string{"c1", "--limit", "0"}, wantErr: true},
		{args: []string{"c1", "--after", "-1"}, wantErr: true},
		{args: []string{"c1", "c2"}, wantErr: true},
		{args: []string{}, wantErr: true},
		{args: []string{"c1", "--after", "x"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseHistoryArgs(testFlagsEnv(), tt.args)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseHistoryArgs(%q) accepted", tt.args)
			}
			continue
		}
		if err != nil || *got != tt.want {
			t.Errorf("parseHistoryArgs(%q) = %+v, %v", tt.args, got, err)
		}
	}
}

func TestParseNewConversationArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    *newConversationArgs
		wantErr bool
	}{
		{args: []string{"--title", "Ops", "--members", "u1, u2,"}, want: &newConversationArgs{typ: "group", title: "Ops", members: []string{"u1", "u2"}}},
		{args: []string{"--type", "direct", "--members", "u1"}, want: &newConversationArgs{typ: "direct", members: []string{"u1"}}},
		{args: []string{"--type", "direct", "--members", "u1,u2"}, wantErr: true},
		{args: []string{"--type", "channel", "--members", "u1"}, wantErr: true},
		{args: []string{"--title", "x"}, wantErr: true},
		{args: []string{"--members", "u1", "extra"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseNewConversationArgs(testFlagsEnv(), tt.args)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%q accepted", tt.args)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q = %+v, %v", tt.args, got, err)
		}
	}
}

func TestParseLoginArgs(t *testing.T) {
	a, err := parseLoginArgs(testFlagsEnv(), []string{"--server", "https://h:8443", "--ca", "ca.pem", "--user", "ann", "--password-stdin"})
	if err != nil || *a != (loginArgs{server: "https://h:8443", ca: "ca.pem", user: "ann", passwordStdin: true}) {
		t.Fatalf("got %+v, %v", a, err)
	}
	for _, args := range [][]string{
		{"--password-stdin"},               // stdin cannot carry both
		{"--server", "https://h", "bob"},   // stray argument
		{"--password", "secret", "--user"}, // there is no --password flag
	} {
		if _, err := parseLoginArgs(testFlagsEnv(), args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestParseCreateUserArgs(t *testing.T) {
	a, err := parseCreateUserArgs(testFlagsEnv(), []string{"--username", "bob", "--display-name", "Bob B", "--roles", "user,auditor", "--department", "d1"})
	want := wire.CreateUserRequest{Username: "bob", DisplayName: "Bob B", DepartmentID: "d1", Roles: []string{"user", "auditor"}}
	if err != nil || !reflect.DeepEqual(a.req, want) {
		t.Fatalf("got %+v, %v", a, err)
	}
	if _, err := parseCreateUserArgs(testFlagsEnv(), []string{"--username", "bob"}); err == nil {
		t.Error("missing display name accepted")
	}
	if _, err := parseCreateUserArgs(testFlagsEnv(), []string{"--username", "bob", "--display-name", "B", "--password", "x"}); err == nil {
		t.Error("a password on the command line accepted")
	}
}

func TestParseMFACode(t *testing.T) {
	tests := []struct {
		in, method, code string
		wantErr          bool
	}{
		{in: "123456", method: "totp", code: "123456"},
		{in: " 123 456 \n", method: "totp", code: "123456"},
		{in: "r:ABCD-EFGH", method: "recovery_code", code: "ABCD-EFGH"},
		{in: "r: abcd ", method: "recovery_code", code: "abcd"},
		{in: "r:", wantErr: true},
		{in: "  ", wantErr: true},
	}
	for _, tt := range tests {
		m, c, err := parseMFACode(tt.in)
		if (err != nil) != tt.wantErr || m != tt.method || c != tt.code {
			t.Errorf("parseMFACode(%q) = %q, %q, %v", tt.in, m, c, err)
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, text, line string }{
		{"hello", "hello", "hello"},
		{"a\nb\tc", "a\nb\tc", "a b c"},
		{"\x1b]0;pwned\x07title", "\uFFFD]0;pwned\uFFFDtitle", "\uFFFD]0;pwned\uFFFDtitle"},
		{"\x1b[2J", "\uFFFD[2J", "\uFFFD[2J"},
		{"x\u202Ey", "x\uFFFDy", "x\uFFFDy"},
		{"\u009b31m", "\uFFFD31m", "\uFFFD31m"},
		{"héllo ✓", "héllo ✓", "héllo ✓"},
		{"a\rb", "a\uFFFDb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in); got != tt.text {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.text)
		}
		if got := cleanLine(tt.in); got != tt.line {
			t.Errorf("cleanLine(%q) = %q, want %q", tt.in, got, tt.line)
		}
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"help"}, 0, ""},
		{nil, 1, ""},
		{[]string{"frobnicate"}, 1, `unknown command "frobnicate"`},
		{[]string{"send", "c1"}, 1, "usage: parley send"},
		{[]string{"history", "-h"}, 0, "usage: parley history"},
		{[]string{"whoami"}, 1, "not logged in"},
		{[]string{"totp", "disable"}, 1, "parley totp enroll"},
		{[]string{"sessions", "revoke"}, 1, "usage: parley sessions"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		dir := t.TempDir()
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
			getenv:       func(k string) string { return map[string]string{"PARLEY_CONFIG": dir + "/c.json"}[k] },
			readPassword: func(string) (string, error) { return "", errors.New("no terminal") }}
		if code := run(t.Context(), tt.args, e); code != tt.code {
			t.Errorf("run(%q) = %d, want %d (stderr %q)", tt.args, code, tt.code, errb.String())
		}
		if !strings.Contains(errb.String(), tt.stderr) {
			t.Errorf("run(%q) stderr = %q, want %q", tt.args, errb.String(), tt.stderr)
		}
	}
}
