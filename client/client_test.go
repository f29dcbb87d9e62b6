package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newTestServer starts a TLS server and a client that trusts only its
// certificate.
func newTestServer(t *testing.T, h http.Handler, opts ...Option) (*httptest.Server, *Client) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c, err := New(srv.URL, append([]Option{WithRootCAs(pool)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// testCA makes a CA and a leaf for 127.0.0.1 signed by it, so that a test
// server can present a certificate from an authority other than httptest's.
func testCA(t *testing.T) (caPEM []byte, leaf tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "parley test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}
}

func TestNewChecksURL(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string
		base    string
	}{
		{url: "http://localhost:8443", wantErr: "refusing http://"},
		{url: "HTTP://localhost:8443", wantErr: "refusing http://"},
		{url: "ws://localhost", wantErr: "must start with https://"},
		{url: "localhost:8443", wantErr: "https://"},
		{url: "", wantErr: "https://"},
		{url: "https://", wantErr: "no host"},
		{url: "https://u:p@localhost", wantErr: "credentials"},
		{url: "https://localhost?x=1", wantErr: "query"},
		{url: "https://localhost:8443", base: "https://localhost:8443"},
		{url: "https://localhost:8443/", base: "https://localhost:8443"},
		{url: " https://chat.example/parley/ ", base: "https://chat.example/parley"},
	}
	for _, tt := range tests {
		c, err := New(tt.url)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New(%q) error = %v, want containing %q", tt.url, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%q): %v", tt.url, err)
			continue
		}
		if c.BaseURL() != tt.base {
			t.Errorf("New(%q).BaseURL() = %q, want %q", tt.url, c.BaseURL(), tt.base)
		}
	}
}

func TestNewOptionErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]Option{
		"missing CA file":    {WithCAFile(filepath.Join(dir, "nope.pem"))},
		"CA file not PEM":    {WithCAFile(notPEM)},
		"nil pool":           {WithRootCAs(nil)},
		"nil http client":    {WithHTTPClient(nil)},
		"http client and CA": {WithHTTPClient(&http.Client{}), WithRootCAs(x509.NewCertPool())},
	} {
		if _, err := New("https://localhost", opts...); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestCAPinning(t *testing.T) {
	caPEM, leaf := testCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"user_id":"u1","username":"ann","display_name":"Ann","department_id":"","roles":[],"mfa_enrolled":false}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Pinned to the right CA: accepted.
	good, err := New(srv.URL, WithCAFile(caFile))
	if err != nil {
		t.Fatal(err)
	}
	if me, err := good.Me(ctx); err != nil || me.Username != "ann" {
		t.Fatalf("pinned to the server's CA: %v, %v", me, err)
	}

	// Pinned to another CA (httptest's): refused.
	other := httptest.NewTLSServer(http.NotFoundHandler())
	defer other.Close()
	pool := x509.NewCertPool()
	pool.AddCert(other.Certificate())
	bad, _ := New(srv.URL, WithRootCAs(pool))
	if _, err := bad.Me(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("pinned to another CA: err = %v, want a certificate error", err)
	}
	// And the pinned client refuses the other server too.
	bad2, _ := New(other.URL, WithCAFile(caFile))
	if _, err := bad2.Me(ctx); err == nil {
		t.Fatal("server of another CA accepted")
	}
	// System roots do not know a private CA.
	sys, _ := New(srv.URL)
	if _, err := sys.Me(ctx); err == nil {
		t.Fatal("self-signed server accepted with system roots")
	}
}

func TestDefaultTransportPolicy(t *testing.T) {
	c, err := New("https://localhost")
	if err != nil {
		t.Fatal(err)
	}
	for _, hc := range []*http.Client{c.http, c.wsHTTP} {
		tr := hc.Transport.(*http.Transport)
		if tr.TLSClientConfig.MinVersion != tls.VersionTLS12 {
			t.Error("MinVersion below TLS 1.2")
		}
		if tr.TLSHandshakeTimeout == 0 || tr.ResponseHeaderTimeout == 0 {
			t.Error("missing timeouts")
		}
		if hc.CheckRedirect == nil {
			t.Error("redirects followed")
		}
	}
	if p := c.wsHTTP.Transport.(*http.Transport).TLSClientConfig.NextProtos; len(p) != 1 || p[0] != "http/1.1" {
		t.Errorf("WebSocket transport ALPN = %v, want http/1.1 only", p)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	hit := false
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/me", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { hit = true })
	_, c := newTestServer(t, mux, WithToken("secret"))
	_, err := c.Me(context.Background())
	var apiErr *APIError
	if !asAPIError(err, &apiErr) || apiErr.Status != http.StatusFound {
		t.Fatalf("err = %v, want APIError 302", err)
	}
	if hit {
		t.Fatal("redirect followed")
	}
}

func TestResponseTooLarge(t *testing.T) {
	_, c := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"users":[` + strings.Repeat(`{"user_id":"x"},`, maxResponseBytes/16) + `{}]}`))
	}))
	if _, err := c.Users(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want too large", err)
	}
}
