package tlsgrade

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// parleyLike is what the probe sees of Parley's listener (httpapi/tls.go).
func parleyLike() *Report {
	r := &Report{Target: "127.0.0.1:8443", ServerName: "127.0.0.1",
		Protocols: map[uint16]bool{tls.VersionTLS13: true, tls.VersionTLS12: true, tls.VersionTLS11: false, tls.VersionTLS10: false, VersionSSL30: false},
		Groups:    []Group{{ID: tls.X25519MLKEM768, Versions: []uint16{tls.VersionTLS13}}, {ID: tls.X25519, Versions: []uint16{tls.VersionTLS13, tls.VersionTLS12}}, {ID: tls.CurveP256}},
		Cert:      &Cert{KeyType: "ECDSA", KeyBits: 256, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)},
		HSTS:      &HSTS{Present: true, MaxAge: 63072000, IncludeSubDomains: true}}
	r.Suites = []Suite{{Version: tls.VersionTLS13, ID: tls.TLS_AES_128_GCM_SHA256}}
	for _, id := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256} {
		r.Suites = append(r.Suites, Suite{Version: tls.VersionTLS12, ID: id})
	}
	return r
}

func TestGrade(t *testing.T) {
	tests := []struct {
		name        string
		change      func(r *Report)
		grade       string
		trustIgnore string
		reason      string // substring of some reason or warning
	}{
		{"parley with HSTS", func(*Report) {}, "A+", "A+", ""},
		{"no HSTS", func(r *Report) { r.HSTS = &HSTS{} }, "A", "A", "Strict-Transport-Security"},
		{"short HSTS", func(r *Report) { r.HSTS.MaxAge = 86400 }, "A", "A", "below 180 days"},
		{"no TLS 1.3", func(r *Report) { r.Protocols[tls.VersionTLS13] = false; r.Suites = r.Suites[1:] }, "A", "A", "TLS 1.3 not accepted"},
		{"expires soon", func(r *Report) { r.Cert.NotAfter = now.Add(10 * 24 * time.Hour) }, "A+", "A+", "expires in less than 30 days"},
		{"untrusted", func(r *Report) { r.Cert.TrustError = errors.New("x509: certificate signed by unknown authority") }, "T", "A+", "not trusted"},
		{"no certificate", func(r *Report) { r.Cert = nil }, "T", "A+", "no certificate"},
		{"TLS 1.0", func(r *Report) {
			r.Protocols[tls.VersionTLS10] = true
			r.Suites = append(r.Suites, Suite{Version: tls.VersionTLS10, ID: tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA})
		}, "B", "B", "TLS 1.0 or 1.1"},
		{"RSA key exchange", func(r *Report) {
			r.Suites = append(r.Suites, Suite{Version: tls.VersionTLS12, ID: tls.TLS_RSA_WITH_AES_128_GCM_SHA256})
		}, "A-", "A-", "without forward secrecy"},
		{"CBC in TLS 1.2", func(r *Report) {
			r.Suites = append(r.Suites, Suite{Version: tls.VersionTLS12, ID: tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256})
		}, "A-", "A-", "CBC"},
		{"3DES", func(r *Report) {
			r.Suites = append(r.Suites, Suite{Version: tls.VersionTLS12, ID: tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA})
		}, "C", "C", "SWEET32"},
		{"RC4", func(r *Report) {
			r.Suites = append(r.Suites, Suite{Version: tls.VersionTLS12, ID: tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA})
		}, "C", "C", "RC4"},
		{"SSL 3.0", func(r *Report) { r.Protocols[VersionSSL30] = true }, "C", "C", "SSL 3.0"},
		{"only TLS 1.1", func(r *Report) {
			r.Protocols = map[uint16]bool{tls.VersionTLS11: true}
			r.Suites = []Suite{{Version: tls.VersionTLS11, ID: tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}}
		}, "C", "C", "neither TLS 1.2 nor TLS 1.3"},
		{"no forward secrecy", func(r *Report) {
			r.Protocols[tls.VersionTLS13] = false
			r.Suites = []Suite{{Version: tls.VersionTLS12, ID: tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}
			r.Cert.KeyType, r.Cert.KeyBits = "RSA", 2048
		}, "B", "B", "no forward secrecy"},
		{"RSA 1024", func(r *Report) { r.Cert.KeyType, r.Cert.KeyBits = "RSA", 1024 }, "B", "B", "RSA key of 1024"},
		{"RSA 512", func(r *Report) { r.Cert.KeyType, r.Cert.KeyBits = "RSA", 512 }, "F", "F", "RSA key of 512"},
		{"nothing accepted", func(r *Report) { r.Protocols = map[uint16]bool{}; r.Suites = nil }, "F", "F", "no TLS handshake"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parleyLike()
			tt.change(r)
			res := Grade(r, now)
			if res.Grade != tt.grade || res.TrustIgnored != tt.trustIgnore {
				t.Errorf("grade %s (trust ignored %s), want %s (%s); reasons %q warnings %q",
					res.Grade, res.TrustIgnored, tt.grade, tt.trustIgnore, res.Reasons, res.Warnings)
			}
			all := strings.Join(append(append(res.Reasons, res.Warnings...), res.Notices...), "\n")
			if !strings.Contains(all, tt.reason) {
				t.Errorf("reasons %q lack %q", all, tt.reason)
			}
		})
	}
}

func TestScoreOfParley(t *testing.T) {
	res := Grade(parleyLike(), now)
	// protocol (100+100)/2, key exchange P-256 ≈ RSA 3072 → 90,
	// cipher (AES-128 80 + AES-256 100)/2 → 0.3·100+0.3·90+0.4·90 = 93
	if res.ProtocolScore != 100 || res.KeyExchangeScore != 90 || res.CipherScore != 90 || res.Score != 93 {
		t.Errorf("scores %+v", res)
	}
}

func TestParseHSTS(t *testing.T) {
	tests := []struct {
		in      string
		present bool
		age     int64
		sub     bool
	}{
		{"max-age=63072000; includeSubDomains", true, 63072000, true},
		{`MAX-AGE="31536000";preload`, true, 31536000, false},
		{"includeSubDomains", false, 0, true},
		{"max-age=-1", false, 0, false},
		{"max-age=abc", false, 0, false},
		{"", false, 0, false},
	}
	for _, tt := range tests {
		h := ParseHSTS(tt.in)
		if h.Present != tt.present || h.MaxAge != tt.age || (tt.present && h.IncludeSubDomains != tt.sub) {
			t.Errorf("ParseHSTS(%q) = %+v", tt.in, h)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct{ in, addr, name, url string }{
		{"https://example.com", "example.com:443", "example.com", "https://example.com/"},
		{"https://127.0.0.1:8443/healthz", "127.0.0.1:8443", "127.0.0.1", "https://127.0.0.1:8443/healthz"},
		{"[::1]:9443", "[::1]:9443", "::1", "https://[::1]:9443/"},
		{"chat.example.com:443", "chat.example.com:443", "chat.example.com", "https://chat.example.com:443/"},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if err != nil || got.Addr != tt.addr || got.ServerName != tt.name || got.URL != tt.url {
			t.Errorf("ParseTarget(%q) = %+v, %v", tt.in, got, err)
		}
	}
	for _, bad := range []string{"http://example.com", "https://", "https://h:0", "https://h:99999"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) accepted", bad)
		}
	}
}

func TestAtLeast(t *testing.T) {
	if !AtLeast("A+", "A") || AtLeast("A-", "A") || AtLeast("T", "F") || !AtLeast("F", "F") || AtLeast("X", "F") {
		t.Error("AtLeast order wrong")
	}
}
