package auth

import (
	"bytes"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func TestLocationLabel(t *testing.T) {
	for ip, want := range map[string]string{
		"127.0.0.1": "loopback", "::1": "loopback", "::ffff:127.0.0.1": "loopback",
		"10.1.2.3": "private network", "192.168.0.9": "private network", "172.16.5.5": "private network", "fd00::1": "private network",
		"169.254.1.1": "link-local", "fe80::1": "link-local",
		"203.0.113.7": "public internet", "2001:db8::1": "public internet",
		"": "unknown", "not-an-ip": "unknown", "0.0.0.0": "unknown", "224.0.0.1": "unknown",
	} {
		if got := locationLabel(ip); got != want {
			t.Errorf("locationLabel(%q) = %q, want %q", ip, got, want)
		}
	}
}

func TestContactAddresses(t *testing.T) {
	good := []struct{ channel, in, want, masked string }{
		{"email", " alice@example.com ", "alice@example.com", "a***@example.com"},
		{"sms", "+41 44 668 18 00", "+41446681800", "+*******1800"},
		{"sms", "+1 (555) 123-4567", "+15551234567", "+*******4567"},
	}
	for _, c := range good {
		got, err := normaliseAddress(c.channel, c.in)
		if err != nil || got != c.want {
			t.Errorf("normaliseAddress(%s, %q) = %q, %v; want %q", c.channel, c.in, got, err, c.want)
		}
		if m := maskAddress(c.channel, got); m != c.masked {
			t.Errorf("maskAddress(%q) = %q, want %q", got, m, c.masked)
		}
	}
	for _, c := range [][2]string{
		{"email", ""}, {"email", "Alice <alice@example.com>"}, {"email", "alice@example.com\nBcc: e@example.com"},
		{"email", "alice"}, {"email", "(comment) alice@example.com"},
		{"sms", "0041446681800"}, {"sms", "+0441"}, {"sms", "+1234"}, {"sms", "+12345678901234567"}, {"sms", "+4144abc1800"},
		{"fax", "+41446681800"},
	} {
		if got, err := normaliseAddress(c[0], c[1]); err == nil {
			t.Errorf("normaliseAddress(%s, %q) = %q, want an error", c[0], c[1], got)
		}
	}
}

func TestResendLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d ...time.Duration) []time.Time {
		var out []time.Time
		for _, x := range d {
			out = append(out, now.Add(-x))
		}
		return out
	}
	cases := []struct {
		recent []time.Time
		wait   time.Duration // 0: allowed
	}{
		{nil, 0},
		{ago(61 * time.Second), 0},
		{ago(20 * time.Second), 40 * time.Second},
		{ago(2*time.Minute, 10*time.Minute, 20*time.Minute, 30*time.Minute), 0},
		{ago(2*time.Minute, 10*time.Minute, 20*time.Minute, 30*time.Minute, 50*time.Minute), 10 * time.Minute},
		{ago(10*time.Second, 10*time.Minute, 20*time.Minute, 30*time.Minute, 59*time.Minute), time.Minute}, // the longer wait wins
		{ago(10*time.Second, 10*time.Minute, 20*time.Minute, 30*time.Minute, 59*time.Minute+30*time.Second), 50 * time.Second},
	}
	for i, c := range cases {
		err := resendLimit(now, c.recent)
		if c.wait == 0 {
			if err != nil {
				t.Errorf("case %d: %v", i, err)
			}
			continue
		}
		if parley.ErrorCode(err) != parley.CodeRateLimited || parley.RetryAfter(err) != c.wait {
			t.Errorf("case %d: %v (retry after %v), want rate_limited after %v", i, err, parley.RetryAfter(err), c.wait)
		}
	}
}

// TestOTPMACBindsEverything: the stored MAC is useless for any other code,
// challenge, user, purpose, channel, binding or address (A7).
func TestOTPMACBindsEverything(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	base := parley.OTPChallenge{ID: "otp_1", UserID: "u_1", Purpose: parley.OTPLogin, Channel: "email", Binding: "s_1"}
	want := otpMAC(key, &base, "123456")
	if !bytes.Equal(want, otpMAC(key, &base, "123456")) {
		t.Fatal("MAC is not deterministic")
	}
	for name, mut := range map[string]func(c *parley.OTPChallenge){
		"id":      func(c *parley.OTPChallenge) { c.ID = "otp_2" },
		"user":    func(c *parley.OTPChallenge) { c.UserID = "u_2" },
		"purpose": func(c *parley.OTPChallenge) { c.Purpose = parley.OTPStepUp },
		"channel": func(c *parley.OTPChallenge) { c.Channel = "sms" },
		"binding": func(c *parley.OTPChallenge) { c.Binding = "s_2" },
		"payload": func(c *parley.OTPChallenge) { c.Payload = []byte("sealed") },
		// Length prefixes: moving bytes between fields changes the MAC.
		"shift": func(c *parley.OTPChallenge) { c.ID, c.UserID = "otp_1u", "_1" },
	} {
		c := base
		mut(&c)
		if bytes.Equal(want, otpMAC(key, &c, "123456")) {
			t.Errorf("%s: same MAC", name)
		}
	}
	if bytes.Equal(want, otpMAC(key, &base, "123457")) || bytes.Equal(want, otpMAC(bytes.Repeat([]byte{8}, 32), &base, "123456")) {
		t.Error("MAC ignores the code or the key")
	}
}

func TestNewOTPCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := newOTPCode()
		if len(c) != otpDigits || len(bytes.Trim([]byte(c), "0123456789")) > 0 {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("only %d distinct codes in 200", len(seen))
	}
}
