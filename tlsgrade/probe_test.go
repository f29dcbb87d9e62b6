package tlsgrade

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestProbeWeakServer grades a deliberately weak server: TLS 1.0 and 1.1
// on, RSA key exchange and CBC suites, no HSTS. It must come out B or
// worse, for those reasons.
func TestProbeWeakServer(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused probe handshakes are the point
	srv.TLS = &tls.Config{
		MinVersion: tls.VersionTLS10,
		MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
		},
	}
	srv.StartTLS()
	defer srv.Close()

	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	target, err := ParseTarget(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := Probe(ctx, target, Options{Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[uint16]bool{tls.VersionTLS10: true, tls.VersionTLS11: true, tls.VersionTLS12: true, tls.VersionTLS13: false, VersionSSL30: false} {
		if r.Protocols[v] != want {
			t.Errorf("%s accepted = %v, want %v", VersionName(v), r.Protocols[v], want)
		}
	}
	var tls12 []string
	for _, s := range r.Suites {
		if s.Version == tls.VersionTLS12 {
			tls12 = append(tls12, s.Name)
		}
	}
	if len(tls12) != 4 {
		t.Errorf("TLS 1.2 suites %v, want the 4 configured", tls12)
	}
	if r.Cert == nil || r.Cert.TrustError != nil {
		t.Fatalf("certificate %+v: pinned root must be trusted", r.Cert)
	}
	if r.HSTS == nil || r.HSTS.Present {
		t.Errorf("HSTS %+v, want an answer without it", r.HSTS)
	}

	res := Grade(r, time.Now())
	var b strings.Builder
	Write(&b, r, res, time.Now())
	t.Logf("\n%s", b.String())
	if Better(res.Grade, "B") || res.Grade == "T" {
		t.Errorf("weak server graded %s, want B or worse", res.Grade)
	}
	out := b.String()
	for _, why := range []string{"TLS 1.0 or 1.1 accepted", "without forward secrecy", "CBC suite", "no Strict-Transport-Security"} {
		if !strings.Contains(out, why) {
			t.Errorf("output lacks %q", why)
		}
	}
	if !strings.HasSuffix(out, "grade: "+res.Grade+"\n") {
		t.Errorf("last line is not \"grade: %s\"", res.Grade)
	}
}

func TestProbeUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	target, _ := ParseTarget(strings.Replace(srv.URL, "http://", "https://", 1))
	srv.Close()
	if _, err := Probe(context.Background(), target, Options{Timeout: time.Second}); err == nil {
		t.Error("probe of a closed port succeeded")
	}
}
