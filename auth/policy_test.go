package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func TestChecklistPasswordPolicy(t *testing.T) {
	p := parley.DefaultPasswordPolicy()
	cases := []struct {
		pw   string
		want string // substring of the message; "" = accepted
	}{
		{"Correct-Horse-9", ""},
		{"Short-1a", "at least 12"},
		{"Eleven-Ch1!", "at least 12"}, // 11 characters: the checklist's 12 is a floor
		{"Twelve-Char1", ""},
		{"alllowercase-123", "upper-case"},
		{"ALLUPPERCASE-123", "upper-case"},
		{"NoDigitsHere-!!", "upper-case"},
		{"NoSpecials12345", "upper-case"},
		{"Alice-Password-1", "username"},
		{"Sun-Wukong-2026!", "display name"},
		{"Acme-Holdings-9!", "organisation"},
		{"My-Holdings-9!xx", "organisation"}, // a word of the organisation's name
		{"#ImNotAHacker69", "breached"},
		{strings.Repeat("Aa1!", 65), "at most"},
		{"密码很长的中文句子Aa1!", ""},
	}
	who := passwordSubject{Username: "alice", DisplayName: "Sun Wukong", OrgName: "Acme Holdings"}
	for _, c := range cases {
		err := checkPassword(p, c.pw, who)
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

// TestNISTPasswordPolicy: 15 characters without MFA, 8 with, no
// composition rules, and still the breached list and the names (A3).
func TestNISTPasswordPolicy(t *testing.T) {
	p, _ := parley.PasswordPreset(parley.ProfileNIST)
	plain := passwordSubject{Username: "alice", DisplayName: "Alice", OrgName: "Organisation"}
	mfa := plain
	mfa.HasMFA = true
	cases := []struct {
		pw   string
		who  passwordSubject
		want string
	}{
		{"fourteen chars", plain, "at least 15"},
		{"fifteen chars x", plain, ""}, // no composition rules
		{"qzvkwmpt", mfa, ""},          // 8 with MFA
		{"qzvkwmp", mfa, "at least 8"},
		{"qzvkwmpt", plain, "at least 15"},
		{"a day to remember", plain, "breached"},
		{"my name is alice!!", plain, "username"},
	}
	for _, c := range cases {
		err := checkPassword(p, c.pw, c.who)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%q (mfa %v): err = %v, want %q", c.pw, c.who.HasMFA, err, c.want)
		}
	}
}

// TestMLPS3PasswordPolicy: checklist composition and history, a 90-day
// change, MFA for everyone (A3, A10).
func TestMLPS3PasswordPolicy(t *testing.T) {
	p, _ := parley.PasswordPreset(parley.ProfileMLPS3)
	if !p.MFAForAll || p.MaxAgeDays != 90 || p.HistoryCount != 5 || !p.RequireClasses || p.MinLength != 12 {
		t.Fatalf("mlps3 preset = %+v", p)
	}
	if err := checkPassword(p, "fifteen chars x", passwordSubject{HasMFA: true}); err == nil ||
		!strings.Contains(err.Error(), "upper-case") {
		t.Fatalf("mlps3 accepted a password without the four classes: %v", err)
	}
}

// TestPolicyValidate pins each profile's promises and the bounds (A3).
func TestPolicyValidate(t *testing.T) {
	for _, name := range []string{parley.ProfileChecklist, parley.ProfileNIST, parley.ProfileMLPS3} {
		p, ok := parley.PasswordPreset(name)
		if !ok || p.Validate() != nil {
			t.Fatalf("preset %s invalid: %v", name, p.Validate())
		}
	}
	ck := parley.DefaultPasswordPolicy()
	if ck.Profile != "checklist" || ck.MinLength != 12 || ck.HistoryCount != 5 || ck.MaxAgeDays != 90 ||
		ck.LockoutThreshold != 5 || ck.LockoutMinutes != 30 || ck.LockoutDuration() != 30*time.Minute {
		t.Fatalf("default = %+v", ck)
	}
	mod := func(profile string, f func(*parley.PasswordPolicy)) parley.PasswordPolicy {
		p, _ := parley.PasswordPreset(profile)
		f(&p)
		return p
	}
	cases := []struct {
		p    parley.PasswordPolicy
		want string // "" = valid
	}{
		{mod("checklist", func(p *parley.PasswordPolicy) { p.MaxAgeDays = 180 }), ""},
		{mod("checklist", func(p *parley.PasswordPolicy) { p.MaxAgeDays = 181 }), "max_age_days must be 1 to 180"},
		{mod("checklist", func(p *parley.PasswordPolicy) { p.MaxAgeDays = 0 }), "max_age_days"},
		{mod("mlps3", func(p *parley.PasswordPolicy) { p.MaxAgeDays = 181 }), "max_age_days must be 1 to 180"},
		{mod("mlps3", func(p *parley.PasswordPolicy) { p.MFAForAll = false }), "mfa_for_all"},
		{mod("checklist", func(p *parley.PasswordPolicy) { p.RequireClasses = false }), "require_classes"},
		{mod("nist", func(p *parley.PasswordPolicy) { p.RequireClasses = true }), "composition"},
		{mod("nist", func(p *parley.PasswordPolicy) { p.MaxAgeDays = 90 }), "periodic"},
		{mod("nist", func(p *parley.PasswordPolicy) { p.MFAForAll = true }), ""},
		{mod("checklist", func(p *parley.PasswordPolicy) { p.LockoutThreshold = 0 }), "lockout_threshold"},
		{mod("checklist", func(p *parley.PasswordPolicy) { p.LockoutThreshold = 21 }), "lockout_threshold"},
		{mod("checklist", func(p *parley.PasswordPolicy) { p.LockoutThreshold = 20 }), ""},
		{mod("checklist", func(p *parley.PasswordPolicy) { p.LockoutMinutes = 0 }), "lockout_minutes"},
		{mod("checklist", func(p *parley.PasswordPolicy) { p.LockoutMinutes = 24*60 + 1 }), "lockout_minutes"},
		{mod("checklist", func(p *parley.PasswordPolicy) { p.MinLength, p.MinLengthWithMFA = 7, 7 }), "min_length"},
		{mod("checklist", func(p *parley.PasswordPolicy) { p.HistoryCount = 25 }), "history_count"},
		{mod("nist", func(p *parley.PasswordPolicy) { p.MinLengthWithMFA = 16 }), "min_length_with_mfa"},
		{parley.PasswordPolicy{Profile: "custom"}, "profile"},
	}
	for i, c := range cases {
		err := c.p.Validate()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("case %d (%+v): err = %v, want %q", i, c.p, err, c.want)
		}
	}
}

// TestPasswordExpired: the password expires exactly at max age; nist never
// expires (A3).
func TestPasswordExpired(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	u := &parley.User{PasswordChangedAt: t0}
	ck := parley.DefaultPasswordPolicy()
	if passwordExpired(ck, u, t0.Add(90*24*time.Hour-time.Nanosecond)) || !passwordExpired(ck, u, t0.Add(90*24*time.Hour)) {
		t.Fatal("checklist expiry is not at 90 days")
	}
	nist, _ := parley.PasswordPreset(parley.ProfileNIST)
	if passwordExpired(nist, u, t0.Add(10*365*24*time.Hour)) {
		t.Fatal("nist expired a password")
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
