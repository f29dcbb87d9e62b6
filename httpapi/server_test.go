package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// serverTestLog collects slog records for assertions.
type serverTestLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *serverTestLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *serverTestLog) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func serverTestLogger() (*slog.Logger, *serverTestLog) {
	l := &serverTestLog{}
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

// serverTestStart serves srv on 127.0.0.1 and stops it with the test.
func serverTestStart(t *testing.T, srv *http.Server, serve func(net.Listener) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func TestServerSettings(t *testing.T) {
	cfg := TLSConfig()
	srv := NewHTTPServer(":8443", http.NotFoundHandler(), cfg, nil)
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != 30*time.Second ||
		srv.WriteTimeout != 30*time.Second || srv.IdleTimeout != 120*time.Second {
		t.Errorf("timeouts: %v %v %v %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	if srv.MaxHeaderBytes != 16<<10 || srv.TLSConfig != cfg || srv.ErrorLog == nil || srv.Addr != ":8443" {
		t.Errorf("MaxHeaderBytes %d, TLSConfig %p, ErrorLog %v", srv.MaxHeaderBytes, srv.TLSConfig, srv.ErrorLog)
	}
	if p := srv.Protocols; p == nil || !p.HTTP1() || !p.HTTP2() || p.UnencryptedHTTP2() {
		t.Errorf("Protocols = %v", p)
	}
	red := NewRedirectServer(":80", "8443", nil)
	if red.ReadHeaderTimeout == 0 || red.ReadTimeout == 0 || red.WriteTimeout == 0 || red.IdleTimeout == 0 || red.MaxHeaderBytes == 0 {
		t.Errorf("redirect server without limits: %+v", red)
	}
	if p := red.Protocols; p == nil || !p.HTTP1() || p.HTTP2() || p.UnencryptedHTTP2() {
		t.Errorf("redirect Protocols = %v", p)
	}
}

// TestServerHTTPS runs the real server both ways the wiring may start it and
// checks HTTP/2 and HTTP/1.1, headers on 200/404/500, and the header limit.
func TestServerHTTPS(t *testing.T) {
	cert, _ := tlsTestCert(t)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	starts := map[string]func(srv *http.Server) func(net.Listener) error{
		"ServeTLS": func(srv *http.Server) func(net.Listener) error {
			return func(ln net.Listener) error { return srv.ServeTLS(ln, "", "") }
		},
		"Serve(tls.NewListener)": func(srv *http.Server) func(net.Listener) error {
			return func(ln net.Listener) error { return srv.Serve(tls.NewListener(ln, srv.TLSConfig)) }
		},
	}
	for name, start := range starts {
		t.Run(name, func(t *testing.T) {
			log, _ := serverTestLogger()
			srv := NewHTTPServer("127.0.0.1:0", secureTestHandler(), TLSConfig(cert), log)
			addr := serverTestStart(t, srv, start(srv))
			for _, h2 := range []bool{true, false} {
				tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, ForceAttemptHTTP2: h2}
				if !h2 {
					tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
				}
				c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
				for path, status := range map[string]int{"/": 200, "/nowhere": 404, "/boom": 500, "/api/v1/boom": 500} {
					resp, err := c.Get("https://" + addr + path)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if want := map[bool]int{true: 2, false: 1}[h2]; resp.ProtoMajor != want {
						t.Errorf("%s: HTTP/%d, want HTTP/%d", path, resp.ProtoMajor, want)
					}
					if resp.StatusCode != status {
						t.Errorf("%s: status %d, want %d", path, resp.StatusCode, status)
					}
					secureTestCheck(t, resp.Header, strings.HasPrefix(path, "/api/"))
				}
				tr.CloseIdleConnections()
			}

			// Oversized headers are refused before any handler runs.
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: "+strings.Repeat("a", 64<<10)+"\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("64 KiB header: status %d, want 431", resp.StatusCode)
			}
		})
	}
}

// TestServerErrorLog: handshake noise is debug, other net/http errors warn.
func TestServerErrorLog(t *testing.T) {
	cert, _ := tlsTestCert(t)
	log, logs := serverTestLogger()
	srv := NewHTTPServer("127.0.0.1:0", http.NotFoundHandler(), TLSConfig(cert), log)
	addr := serverTestStart(t, srv, func(ln net.Listener) error { return srv.ServeTLS(ln, "", "") })

	// A TLS 1.1 client and a plain-HTTP client on the HTTPS port.
	if c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Fatal("TLS 1.1 handshake succeeded")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		_, _ = io.ReadAll(c)
		c.Close()
	}
	srv.ErrorLog.Printf("http: something the operator must see\nforged line")

	deadline := time.Now().Add(10 * time.Second)
	for {
		var handshake, warn int
		for _, r := range logs.records(t) {
			msg, _ := r["msg"].(string)
			switch {
			case strings.Contains(msg, "TLS handshake error"):
				handshake++
				if r["level"] != "DEBUG" || r["listener"] != "https" {
					t.Fatalf("handshake noise logged as %v", r)
				}
			case strings.Contains(msg, "something the operator must see"):
				warn++
				if r["level"] != "WARN" {
					t.Fatalf("server error logged as %v", r)
				}
			}
		}
		if handshake >= 2 && warn == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d handshake and %d warn records: %s", handshake, warn, logs.buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(strings.TrimSpace(logs.buf.String()), "\n"); n < 2 {
		t.Errorf("expected one JSON line per record: %s", logs.buf.String())
	}
}

// TestServerRedirect drives the plain-HTTP listener over a real socket.
func TestServerRedirect(t *testing.T) {
	log, _ := serverTestLogger()
	srv := NewRedirectServer("127.0.0.1:0", "8443", log)
	addr := serverTestStart(t, srv, srv.Serve)
	c := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Post("http://"+addr+"/api/v1/auth/login?next=%2F", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 308 || resp.Header.Get("Location") != "https://127.0.0.1:8443/api/v1/auth/login?next=%2F" {
		t.Errorf("got %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if len(body) > 32 {
		t.Errorf("body %q", body)
	}

	// Raw requests with hostile Host headers: net/http or the handler
	// refuses each with 400, and no Location points anywhere.
	for _, host := range []string{"evil.example/path", "evil.example\tX", "a@evil.example", "[::1", "evil.example:80:80", "%65vil.example"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(conn, "GET /x HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil {
			t.Fatalf("%q: %v", host, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("Host %q: status %d Location %q", host, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}
