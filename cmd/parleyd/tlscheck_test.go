package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
)

// TestTLSCheckParley grades Parley's own listener (T4): A+ when its
// self-signed certificate is pinned with --ca (TLS 1.2/1.3 only, ECDHE with
// AEAD only, HSTS of two years), T without it (not in the system roots).
func TestTLSCheckParley(t *testing.T) {
	if testing.Short() {
		t.Skip("probes a live server with ~40 handshakes")
	}
	s := parleytest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	check := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, append([]string{"tlscheck"}, args...), &out, &errb, noEnv)
		return code, out.String(), errb.String()
	}

	code, out, stderr := check("--ca", s.CAFile, "--min", "A+", s.URL+"/healthz")
	if code != 0 || !strings.HasSuffix(out, "\ngrade: A+\n") {
		t.Fatalf("with --ca: exit %d, want grade A+\n%s%s", code, out, stderr)
	}
	t.Logf("parleyd tlscheck --ca %s %s/healthz\n%s", s.CAFile, s.URL, out)
	for _, want := range []string{"TLS 1.3 yes, TLS 1.2 yes, TLS 1.1 no, TLS 1.0 no, SSL 3.0 no", "X25519MLKEM768", "HSTS: max-age=63072000", "trusted: yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "no-FS") || strings.Contains(out, "CBC/stream") {
		t.Errorf("Parley accepted a suite without FS or AEAD (T3):\n%s", out)
	}

	code, out, _ = check(s.URL)
	if code != 0 || !strings.HasSuffix(out, "\ngrade: T\n") || !strings.Contains(out, "grade if the certificate were trusted: A+") {
		t.Fatalf("without --ca: exit %d, want grade T (A+ if trusted)\n%s", code, out)
	}
	if code, _, _ = check("--min", "A", s.URL); code != 1 {
		t.Errorf("--min A with grade T: exit %d, want 1", code)
	}
}

func TestTLSCheckUsage(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{{"tlscheck"}, {"tlscheck", "http://example.com"}, {"tlscheck", "--min", "Z", "https://example.com"}} {
		var out, errb bytes.Buffer
		if code := run(ctx, args, &out, &errb, noEnv); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

func noEnv(string) (string, bool) { return "", false }
