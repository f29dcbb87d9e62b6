package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsHoldNoSecrets: passwords, session tokens, TOTP secrets and
// message bodies never reach the server's log, even at debug level and
// when requests fail (D6, I3).
func TestLogsHoldNoSecrets(t *testing.T) {
	var logs syncBuffer
	s := parleytest.NewServer(t, parleytest.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := testCtx(t)
	u := newCohort(ctx, t, s)
	conv, _ := u.alice.CreateConversation(ctx, "direct", []string{u.bob.UserID}, "")
	_, _ = u.alice.Send(ctx, conv, "log-1", "BODY-MARKER-4411")
	_, _ = s.Client().Login(ctx, "alice", "Wrong-Secret-Pass-77")
	_, _ = u.bob.Send(ctx, "c_missing", "log-2", "BODY-MARKER-4412")
	newRaw(t, s, u.alice.Token()).do("POST", "/api/v1/conversations/"+conv+"/messages", []byte(`{"body":"BODY-MARKER-4413",`), nil)
	out := logs.String()
	if !strings.Contains(out, "listening") {
		t.Fatalf("the logger saw nothing: %q", out)
	}
	for _, secret := range []string{parleytest.Password, "Wrong-Secret-Pass-77", u.alice.Token(), u.bob.Token(),
		u.admin.Token(), u.admin.TOTPSecret, s.SetupToken, "BODY-MARKER-441"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains a secret (%.6s…)", secret)
		}
	}
}

// TestHealthReadinessAndHeaders: /healthz and /readyz answer without
// authentication and reveal nothing; every response carries the security
// headers (I4); the OpenAPI document is served.
func TestHealthReadinessAndHeaders(t *testing.T) {
	s := parleytest.NewServer(t)
	r := newRaw(t, s, "")
	for _, path := range []string{"/healthz", "/readyz", "/api/v1/openapi.json", "/api/v1/me"} {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		resp, err := r.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := 200
		if path == "/api/v1/me" {
			want = 401
		}
		if resp.StatusCode != want {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
		h := resp.Header
		if !strings.Contains(h.Get("Strict-Transport-Security"), "max-age=63072000") ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: security headers missing: %v", path, h)
		}
		if path == "/api/v1/openapi.json" {
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil || doc["openapi"] != "3.1.0" {
				t.Errorf("openapi document: %v", err)
			}
		}
		if path == "/healthz" && len(body) > 64 {
			t.Errorf("/healthz says too much: %s", body)
		}
	}
}
