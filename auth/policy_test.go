package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func TestChecklistPasswordPolicy(t *testing.T) {
	p := ChecklistPolicy()
	cases := []struct {
		pw   string
		want string // substring of the message; "" = accepted
	}{
		{"Correct-Horse-9", ""},
		{"Short-1a", "at least 12"},
		{"alllowercase-123", "upper-case"},
		{"ALLUPPERCASE-123", "upper-case"},
		{"NoDigitsHere-!!", "upper-case"},
		{"NoSpecials12345", "upper-case"},
		{"Alice-Password-1", "username"},
		{"Sun-Wukong-2026!", "display name"},
		{strings.Repeat("Aa1!", 65), "at most"},
		{"密码很长的中文句子Aa1!", ""},
	}
	for _, c := range cases {
		err := p.Check(c.pw, "alice", "Wukong")
		if c.want == "" {
			if err != nil {
				t.Errorf("%q refused: %v", c.pw, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want mention of %q", c.pw, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), c.pw) {
			t.Errorf("error echoes the password: %v", err)
		}
	}
}

func TestValidateUsername(t *testing.T) {
	for name, ok := range map[string]bool{
		"alice": true, "a.b-c_d": true, "u42": true,
		"ab": false, "-lead": false, "has space": false, "аlice": false /* Cyrillic а */, "x@y": false,
		strings.Repeat("a", 65): false,
	} {
		if err := ValidateUsername(name); (err == nil) != ok {
			t.Errorf("%q: err = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestValidateDisplayName(t *testing.T) {
	for name, ok := range map[string]bool{
		"Alice Smith": true, "王小明": true,
		"": false, "  ": false, "evil\u202Etxt.exe": false, "tab\there": false, strings.Repeat("x", 129): false,
	} {
		if err := ValidateDisplayName(name); (err == nil) != ok {
			t.Errorf("%q: err = %v, want ok=%v", name, err, ok)
		}
	}
}

// TestThrottle: failures drain the buckets, an account's success forgives
// it, and a refusal carries Retry-After (I1).
func TestThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now })
	for i := 0; i < accountBurst; i++ {
		if err := th.allow("10.0.0.1", "bob"); err != nil {
			t.Fatalf("attempt %d refused: %v", i, err)
		}
		th.failed("10.0.0.1", "bob")
	}
	err := th.allow("10.0.0.2", "bob")
	if parley.ErrorCode(err) != parley.CodeRateLimited || parley.RetryAfter(err) < time.Second {
		t.Fatalf("after %d failures: %v", accountBurst, err)
	}
	if err := th.allow("10.0.0.1", "carol"); err != nil {
		t.Fatalf("another account from the same IP refused early: %v", err)
	}
	now = now.Add(accountEvery)
	if err := th.allow("10.0.0.2", "bob"); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	th.succeeded("bob")
	for i := 0; i < 5; i++ {
		th.failed("10.0.0.3", "carol")
	}
	for i := 0; i < ipBurst; i++ {
		th.failed("10.0.0.9", "dave"+string(rune('a'+i)))
	}
	if parley.ErrorCode(th.allow("10.0.0.9", "erin")) != parley.CodeRateLimited {
		t.Fatal("spraying IP not limited")
	}
}
