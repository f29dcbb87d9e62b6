package securitytest

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func init() {
	register("Transport: TLS downgrade and plain HTTP",
		scenario{ID: "T2", Name: "TLS-1.0-refused", Needs: 0,
			Attack: "Handshake offering only TLS 1.0: refused (protocol_version alert)",
			Run:    func(t *testing.T, e *env) { handshakeRefused(t, e, tls.VersionTLS10, tls.VersionTLS10, nil) }},
		scenario{ID: "T2", Name: "TLS-1.1-refused", Needs: 0,
			Attack: "Handshake offering only TLS 1.1: refused",
			Run:    func(t *testing.T, e *env) { handshakeRefused(t, e, tls.VersionTLS11, tls.VersionTLS11, nil) }},
		scenario{ID: "T3", Name: "non-forward-secret-RSA-key-exchange-refused", Needs: 0,
			Attack: "TLS 1.2 offering only static-RSA key exchange suites (AES-GCM and CBC): refused",
			Run: func(t *testing.T, e *env) {
				handshakeRefused(t, e, tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
					tls.TLS_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA})
			}},
		scenario{ID: "T3", Name: "CBC-suites-refused", Needs: 0,
			Attack: "TLS 1.2 offering only forward-secret CBC suites (ECDHE with AES-CBC-SHA/SHA256): refused",
			Run: func(t *testing.T, e *env) {
				handshakeRefused(t, e, tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
					tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
					tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256})
			}},
		scenario{ID: "T3", Name: "RC4-and-3DES-suites-refused", Needs: 0,
			Attack: "TLS 1.2 offering only RC4 and 3DES suites: refused",
			Run: func(t *testing.T, e *env) {
				handshakeRefused(t, e, tls.VersionTLS10, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA,
					tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, tls.TLS_RSA_WITH_RC4_128_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
					tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA})
			}},
		scenario{ID: "T3", Name: "only-forward-secret-AEAD-negotiated", Needs: 0,
			Attack: "Offer every suite Go knows, secure and insecure, at TLS 1.0–1.2: the server picks an ECDHE AEAD suite at TLS 1.2 (and TLS 1.3 when offered)",
			Run:    negotiatedSuite},
		scenario{ID: "T2", Name: "openssl-s_client-downgrade-attempts", Needs: 0,
			Attack: "openssl s_client with -tls1, -tls1_1, aRSA/CBC/RC4/3DES/NULL/EXPORT cipher strings: every handshake fails; TLS 1.2 ECDHE-AESGCM and TLS 1.3 succeed (skipped without openssl)",
			Run:    opensslDowngrade},
		scenario{ID: "T1", Name: "plain-HTTP-to-the-HTTPS-port-gets-no-API", Needs: 0,
			Attack: "Speak plain HTTP (health, API, login POST) to the HTTPS port: a 400 from the TLS layer, no API answer, no JSON, no security-relevant content",
			Run:    plainHTTP},
		scenario{ID: "T1", Name: "WebSocket-without-TLS-refused", Needs: 0,
			Attack: "Send a ws:// upgrade in clear to the HTTPS port: no 101 Switching Protocols",
			Run:    plainWS},
	)
}

// handshakeRefused fails unless a client limited to the versions and suites
// cannot complete a handshake.
func handshakeRefused(t *testing.T, e *env, minV, maxV uint16, suites []uint16) {
	t.Helper()
	cfg := e.tlsConfig()
	cfg.MinVersion, cfg.MaxVersion, cfg.CipherSuites = minV, maxV, suites
	cfg.InsecureSkipVerify = true // the point is the handshake parameters, not the certificate
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", e.host, cfg)
	if err == nil {
		st := conn.ConnectionState()
		conn.Close()
		t.Fatalf("handshake succeeded: %s with %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	}
	t.Logf("refused: %v", err)
}

var goodSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

func negotiatedSuite(t *testing.T, e *env) {
	var all []uint16
	for _, s := range tls.CipherSuites() {
		all = append(all, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		all = append(all, s.ID)
	}
	cfg := e.tlsConfig()
	cfg.MinVersion, cfg.MaxVersion, cfg.CipherSuites = tls.VersionTLS10, tls.VersionTLS12, all
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", e.host, cfg)
	if err != nil {
		t.Fatalf("TLS 1.2 handshake with every suite offered: %v", err)
	}
	st := conn.ConnectionState()
	conn.Close()
	if st.Version != tls.VersionTLS12 || !slices.Contains(goodSuites, st.CipherSuite) {
		t.Fatalf("negotiated %s with %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	}
	cfg = e.tlsConfig()
	cfg.MinVersion = tls.VersionTLS13
	conn, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", e.host, cfg)
	if err != nil {
		t.Fatalf("TLS 1.3: %v", err)
	}
	conn.Close()
}

func opensslDowngrade(t *testing.T, e *env) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	run := func(args ...string) (bool, string) {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(c, bin, append([]string{"s_client", "-connect", e.host, "-servername", "localhost"}, args...)...)
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		s := string(out)
		ok := err == nil && strings.Contains(s, "Cipher is ") && !strings.Contains(s, "Cipher is (NONE)")
		return ok, s
	}
	for _, args := range [][]string{
		{"-tls1"}, {"-tls1_1"},
		{"-tls1_2", "-cipher", "aRSA:kRSA:!kECDHE:@SECLEVEL=0"},
		{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:@SECLEVEL=0"},
		{"-tls1_2", "-cipher", "RC4:3DES:DES:NULL:EXPORT:aNULL:eNULL:@SECLEVEL=0"},
		{"-tls1_2", "-cipher", "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA:@SECLEVEL=0"},
	} {
		if ok, out := run(args...); ok {
			t.Errorf("openssl s_client %v succeeded:\n%s", args, truncate(out, 800))
		}
	}
	for _, args := range [][]string{{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"}, {"-tls1_3"}} {
		if ok, out := run(args...); !ok {
			t.Errorf("openssl s_client %v (a good configuration) failed:\n%s", args, truncate(out, 800))
		}
	}
}

// plainRequest writes a request in clear to the HTTPS port and returns the
// answer (bounded).
func (e *env) plainRequest(t *testing.T, raw string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", e.host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(conn, raw)
	data, _ := io.ReadAll(io.LimitReader(bufio.NewReader(conn), 1<<16))
	return string(data)
}

func plainHTTP(t *testing.T, e *env) {
	for _, raw := range []string{
		"GET /healthz HTTP/1.1\r\nHost: " + e.host + "\r\nConnection: close\r\n\r\n",
		"GET /api/v1/openapi.json HTTP/1.1\r\nHost: " + e.host + "\r\nConnection: close\r\n\r\n",
		"POST /api/v1/auth/login HTTP/1.1\r\nHost: " + e.host + "\r\nContent-Type: application/json\r\nContent-Length: 37\r\nConnection: close\r\n\r\n{\"username\":\"a\",\"password\":\"b\"}    ",
		"GET /api/v1/me HTTP/1.0\r\n\r\n",
	} {
		out := e.plainRequest(t, raw)
		if strings.HasPrefix(out, "HTTP/1.1 200") || strings.HasPrefix(out, "HTTP/1.0 200") || strings.Contains(out, "openapi") ||
			strings.Contains(out, `"error"`) || strings.Contains(out, `"status"`) || strings.Contains(out, "token") {
			t.Errorf("plain HTTP %q got an API answer: %.300q", strings.SplitN(raw, "\r\n", 2)[0], out)
		}
		if out != "" && !strings.Contains(out, " 400 ") {
			t.Errorf("plain HTTP: %.200q, want nothing or a 400", out)
		}
	}
	// And an HTTP client that ignores the scheme gets nothing usable either.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + e.host + "/api/v1/openapi.json")
	if err == nil {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == 200 || strings.Contains(string(data), "openapi") {
			t.Fatalf("http:// answered %d %.200q", resp.StatusCode, data)
		}
	}
}

func plainWS(t *testing.T, e *env) {
	out := e.plainRequest(t, "GET /api/v1/ws HTTP/1.1\r\nHost: "+e.host+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	if strings.Contains(out, " 101 ") {
		t.Fatalf("WebSocket upgrade in clear: %.200q", out)
	}
}
