package httpapi

// T2/T3: the TLS policy is proved against real clients: the system OpenSSL
// (what testssl.sh and most scanners use) and crypto/tls, both forcing
// versions, suites and groups that must be refused.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tlsTestHello is what the test server saw of one connection.
type tlsTestHello struct {
	versions []uint16 // versions offered in the ClientHello
	suites   []uint16 // cipher suites offered
	err      error    // server-side handshake error; nil if it succeeded
	state    tls.ConnectionState
}

// tlsTestServer runs a TLS listener on 127.0.0.1 with cfg and reports every
// handshake on the returned channel.
func tlsTestServer(t *testing.T, cfg *tls.Config) (addr string, results <-chan tlsTestHello) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan tlsTestHello, 16)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				var res tlsTestHello
				c := cfg.Clone()
				c.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
					res.versions = slices.Clone(h.SupportedVersions)
					res.suites = slices.Clone(h.CipherSuites)
					return nil, nil
				}
				_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
				tc := tls.Server(conn, c)
				res.err = tc.Handshake()
				if res.err == nil {
					res.state = tc.ConnectionState()
					_, _ = io.Copy(io.Discard, tc) // until the client closes
				}
				ch <- res
			}()
		}
	}()
	return ln.Addr().String(), ch
}

func tlsTestWait(t *testing.T, ch <-chan tlsTestHello) tlsTestHello {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("no handshake reached the server")
		return tlsTestHello{}
	}
}

// tlsTestCert returns a fresh self-signed certificate for the loopback names
// and the path of its PEM file (what clients pin).
func tlsTestCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	certPEM, keyPEM, err := GenerateSelfSigned([]string{"localhost", "127.0.0.1", "::1"}, time.Now(), 397*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := LoadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return cert, certFile
}

// tlsTestRSACert returns a self-signed RSA certificate for localhost. With
// an ECDSA certificate the RSA key exchange could not be chosen anyway, so
// refusing it proves nothing; with an RSA certificate it proves T3.
func tlsTestRSACert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	certFile := filepath.Join(t.TempDir(), "rsa.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, certFile
}

func TestTLSOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed; the crypto/tls client tests still cover T2/T3")
	}
	cert, certFile := tlsTestCert(t)
	addr, results := tlsTestServer(t, TLSConfig(cert))
	rsaCert, rsaCertFile := tlsTestRSACert(t)
	rsaAddr, rsaResults := tlsTestServer(t, TLSConfig(rsaCert))

	// Old protocol versions need security level 0 in OpenSSL 3, or the
	// client refuses locally and the server is never asked.
	old := "DEFAULT@SECLEVEL=0"
	tests := []struct {
		name      string
		args      []string
		ok        bool
		wantOffer uint16 // a failing case must have offered this (version or suite)
		wantVer   uint16
		rsa       bool // against the server with an RSA certificate
	}{
		{"tls1.0 refused", []string{"-tls1", "-cipher", old}, false, tls.VersionTLS10, 0, false},
		{"tls1.1 refused", []string{"-tls1_1", "-cipher", old}, false, tls.VersionTLS11, 0, false},
		{"tls1.3 accepted", []string{"-tls1_3"}, true, 0, tls.VersionTLS13, false},
		{"tls1.3 X25519 accepted", []string{"-tls1_3", "-groups", "X25519"}, true, 0, tls.VersionTLS13, false},
		{"tls1.3 P-521 only refused", []string{"-tls1_3", "-groups", "P-521"}, false, tls.VersionTLS13, 0, false},
		{"tls1.2 RSA key exchange refused", []string{"-tls1_2", "-cipher", "AES128-GCM-SHA256"}, false, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, 0, false},
		{"tls1.2 CBC refused", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"}, false, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, 0, false},
		{"tls1.2 ECDHE-ECDSA-AES128-GCM accepted", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"}, true, 0, tls.VersionTLS12, false},
		{"tls1.2 ECDHE-ECDSA-CHACHA20 accepted", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"}, true, 0, tls.VersionTLS12, false},
		{"rsa cert: tls1.2 RSA key exchange refused", []string{"-tls1_2", "-cipher", "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA"}, false, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, 0, true},
		{"rsa cert: tls1.2 ECDHE-RSA CBC refused", []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384"}, false, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, 0, true},
		{"rsa cert: tls1.2 ECDHE-RSA-AES256-GCM accepted", []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"}, true, 0, tls.VersionTLS12, true},
		{"rsa cert: tls1.3 accepted", []string{"-tls1_3"}, true, 0, tls.VersionTLS13, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			addr, results, certFile := addr, results, certFile
			if tc.rsa {
				addr, results, certFile = rsaAddr, rsaResults, rsaCertFile
			}
			args := append([]string{"s_client", "-connect", addr, "-servername", "localhost",
				"-CAfile", certFile, "-verify_hostname", "localhost", "-verify_return_error",
				"-alpn", "h2,http/1.1"}, tc.args...)
			cmd := exec.CommandContext(ctx, openssl, args...)
			cmd.Stdin = nil // /dev/null: s_client sees EOF and closes after the handshake
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			runErr := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("openssl timed out:\n%s", out.String())
			}
			res := tlsTestWait(t, results)
			t.Logf("openssl %s: exit=%v server=%v", strings.Join(tc.args, " "), runErr, res.err)
			if tc.ok {
				if runErr != nil || res.err != nil {
					t.Fatalf("handshake failed: openssl %v, server %v\n%s", runErr, res.err, out.String())
				}
				if res.state.Version != tc.wantVer {
					t.Errorf("version = %x, want %x", res.state.Version, tc.wantVer)
				}
				if !strings.Contains(out.String(), "Verify return code: 0 (ok)") {
					t.Errorf("pinned self-signed certificate did not verify in OpenSSL:\n%s", out.String())
				}
				if res.state.NegotiatedProtocol != "h2" {
					t.Errorf("ALPN = %q, want h2", res.state.NegotiatedProtocol)
				}
				return
			}
			var exitErr *exec.ExitError
			if !errors.As(runErr, &exitErr) {
				t.Fatalf("openssl should exit non-zero, got %v\n%s", runErr, out.String())
			}
			if res.err == nil {
				t.Fatalf("server completed a handshake it must refuse\n%s", out.String())
			}
			// Prove the refusal was the server's: the client really offered it.
			if !slices.Contains(res.versions, tc.wantOffer) && !slices.Contains(res.suites, tc.wantOffer) {
				t.Fatalf("client did not offer %#04x (versions %x, suites %x); test proves nothing\n%s",
					tc.wantOffer, res.versions, res.suites, out.String())
			}
		})
	}
}

func TestTLSGoClients(t *testing.T) {
	cert, _ := tlsTestCert(t)
	addr, results := tlsTestServer(t, TLSConfig(cert))
	rsaCert, _ := tlsTestRSACert(t)
	rsaAddr, rsaResults := tlsTestServer(t, TLSConfig(rsaCert))
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	pool.AddCert(rsaCert.Leaf)

	tests := []struct {
		name   string
		client *tls.Config
		ok     bool
		curve  tls.CurveID
		rsa    bool // against the server with an RSA certificate
	}{
		{"tls1.0", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, false, 0, false},
		{"tls1.1", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false, 0, false},
		{"tls1.3 default", &tls.Config{MinVersion: tls.VersionTLS13}, true, tls.X25519MLKEM768, false},
		{"tls1.3 X25519MLKEM768", &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519MLKEM768}}, true, tls.X25519MLKEM768, false},
		{"tls1.3 SecP256r1MLKEM768", &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.SecP256r1MLKEM768}}, true, tls.SecP256r1MLKEM768, false},
		{"tls1.3 P-384", &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.CurveP384}}, true, tls.CurveP384, false},
		{"tls1.3 P-521 only", &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.CurveP521}}, false, 0, false},
		{"tls1.2 RSA kex", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}, false, 0, false},
		{"tls1.2 CBC", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}}, false, 0, false},
		{"tls1.2 CBC-SHA256", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}}, false, 0, false},
		{"tls1.2 3DES", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}}, false, 0, false},
		{"tls1.2 RC4", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA}}, false, 0, false},
		{"tls1.2 ECDHE-ECDSA-AES128-GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true, tls.X25519, false},
		{"tls1.2 ECDHE-ECDSA-AES256-GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}}, true, tls.X25519, false},
		{"tls1.2 ECDHE-ECDSA-CHACHA20", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, true, tls.X25519, false},
		{"tls1.2 P-256", &tls.Config{MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP256}}, true, tls.CurveP256, false},
		{"rsa cert: tls1.2 RSA kex", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_RSA_WITH_AES_128_CBC_SHA}}, false, 0, true},
		{"rsa cert: tls1.2 ECDHE-RSA CBC", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}}, false, 0, true},
		{"rsa cert: tls1.2 ECDHE-RSA-AES128-GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}, true, tls.X25519, true},
		{"rsa cert: tls1.2 ECDHE-RSA-CHACHA20", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}}, true, tls.X25519, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.client.Clone()
			cfg.RootCAs = pool
			cfg.ServerName = "localhost"
			d := tls.Dialer{Config: cfg, NetDialer: &net.Dialer{Timeout: 10 * time.Second}}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			addr, results := addr, results
			if tc.rsa {
				addr, results = rsaAddr, rsaResults
			}
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				conn.Close()
			}
			res := tlsTestWait(t, results)
			if tc.ok {
				if err != nil || res.err != nil {
					t.Fatalf("handshake failed: client %v, server %v", err, res.err)
				}
				if res.state.CurveID != tc.curve {
					t.Errorf("key exchange = %v, want %v", res.state.CurveID, tc.curve)
				}
				return
			}
			if err == nil || res.err == nil {
				t.Fatalf("handshake must fail: client %v, server %v", err, res.err)
			}
		})
	}
}

// TestTLSPinnedSelfSigned: a client that trusts only DIR/tls/cert.pem can
// reach the server under every name in it (API-CORE).
func TestTLSPinnedSelfSigned(t *testing.T) {
	cert, _ := tlsTestCert(t)
	addr, results := tlsTestServer(t, TLSConfig(cert))
	_, port, _ := net.SplitHostPort(addr)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	for _, name := range []string{"localhost", "127.0.0.1"} {
		conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", port), &tls.Config{RootCAs: pool, ServerName: name})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		conn.Close()
		if r := tlsTestWait(t, results); r.err != nil {
			t.Fatalf("%s: server: %v", name, r.err)
		}
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "evil.example"})
	if err == nil {
		conn.Close()
		t.Fatal("certificate verified for a name it does not hold")
	}
	tlsTestWait(t, results)
}

func TestTLSConfigFields(t *testing.T) {
	a, b := TLSConfig(), TLSConfig()
	if a.MinVersion != tls.VersionTLS12 || a.MaxVersion != tls.VersionTLS13 {
		t.Errorf("versions %x..%x", a.MinVersion, a.MaxVersion)
	}
	if !slices.Equal(a.NextProtos, []string{"h2", "http/1.1"}) {
		t.Errorf("NextProtos = %v", a.NextProtos)
	}
	insecure := tls.InsecureCipherSuites()
	for _, id := range a.CipherSuites {
		name := tls.CipherSuiteName(id)
		if !strings.HasPrefix(name, "TLS_ECDHE_") || !(strings.Contains(name, "_GCM_") || strings.Contains(name, "CHACHA20_POLY1305")) {
			t.Errorf("suite %s is not ECDHE+AEAD (T3)", name)
		}
		for _, s := range insecure {
			if s.ID == id {
				t.Errorf("insecure suite %s", name)
			}
		}
	}
	if !slices.Contains(a.CurvePreferences, tls.X25519MLKEM768) || slices.Contains(a.CurvePreferences, tls.CurveP521) {
		t.Errorf("CurvePreferences = %v", a.CurvePreferences)
	}
	a.CipherSuites[0] = tls.TLS_RSA_WITH_RC4_128_SHA
	a.NextProtos[0] = "x"
	if b.CipherSuites[0] == tls.TLS_RSA_WITH_RC4_128_SHA || TLSConfig().NextProtos[0] != "h2" {
		t.Error("TLSConfig shares slices between calls")
	}
}

func TestTLSGenerateSelfSigned(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	validity := 397 * 24 * time.Hour
	certPEM, keyPEM, err := GenerateSelfSigned([]string{"localhost", "127.0.0.1", "::1", "Chat.Example.COM"}, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := pair.Leaf
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("key is %T, want ECDSA P-256", c.PublicKey)
	}
	if c.SerialNumber.BitLen() != 128 || c.SerialNumber.Sign() <= 0 {
		t.Errorf("serial %x has %d bits", c.SerialNumber, c.SerialNumber.BitLen())
	}
	if !c.IsCA || c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageCertSign || !c.MaxPathLenZero {
		t.Errorf("IsCA=%v KeyUsage=%v MaxPathLenZero=%v", c.IsCA, c.KeyUsage, c.MaxPathLenZero)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("ExtKeyUsage = %v", c.ExtKeyUsage)
	}
	if !slices.Equal(c.DNSNames, []string{"localhost", "chat.example.com"}) || len(c.IPAddresses) != 2 {
		t.Errorf("SANs: %v %v", c.DNSNames, c.IPAddresses)
	}
	if !c.NotAfter.Equal(now.Add(validity)) || c.NotBefore.After(now) {
		t.Errorf("validity %v .. %v", c.NotBefore, c.NotAfter)
	}
	if !bytes.HasPrefix(keyPEM, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Error("key is not PKCS#8 PEM")
	}
	other, _, _ := GenerateSelfSigned([]string{"localhost"}, now, validity)
	if bytes.Equal(other, certPEM) {
		t.Error("two certificates are identical")
	}

	for _, bad := range []struct {
		hosts []string
		v     time.Duration
	}{{nil, validity}, {[]string{"localhost"}, 0}, {[]string{""}, validity}, {[]string{"a b"}, validity}, {[]string{"evil.com/x"}, validity}} {
		if _, _, err := GenerateSelfSigned(bad.hosts, now, bad.v); err == nil {
			t.Errorf("GenerateSelfSigned(%q, %v) succeeded", bad.hosts, bad.v)
		}
	}
}

func TestTLSLoadCertificate(t *testing.T) {
	cert, certFile := tlsTestCert(t)
	if cert.Leaf == nil || cert.Leaf.Subject.CommonName != "localhost" {
		t.Fatalf("Leaf not set: %+v", cert.Leaf)
	}
	_, otherKey, err := GenerateSelfSigned([]string{"localhost"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherKeyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(otherKeyFile, otherKey, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadCertificate(certFile, otherKeyFile)
	if err == nil {
		t.Fatal("mismatched key accepted")
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), string(otherKey[30:60])) {
		t.Errorf("error leaks key material: %v", err)
	}
	if _, err := LoadCertificate(filepath.Join(t.TempDir(), "missing.pem"), otherKeyFile); err == nil {
		t.Error("missing certificate accepted")
	}
}
