package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// secureTestHandler has a 200, a 404 and a 500, inside and outside /api/.
func secureTestHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("home")) })
	mux.HandleFunc("GET /api/v1/me", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	})
	mux.HandleFunc("GET /api/v1/boom", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"code":"internal","message":"x"}}`, http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	return mux
}

// secureTestCheck asserts the I4 headers on one response.
func secureTestCheck(t *testing.T, h http.Header, api bool) {
	t.Helper()
	for _, kv := range secureHeaderValues {
		if got := h.Get(kv[0]); got != kv[1] {
			t.Errorf("%s = %q, want %q", kv[0], got, kv[1])
		}
	}
	if got := h.Get("Cache-Control"); api != (got == "no-store") {
		t.Errorf("Cache-Control = %q (api path: %v)", got, api)
	}
}

func TestSecureHeaders(t *testing.T) {
	h := SecureHeaders(secureTestHandler())
	tests := []struct {
		path   string
		status int
		api    bool
	}{
		{"/", 200, false},
		{"/nowhere", 404, false},
		{"/boom", 500, false},
		{"/api/v1/me", 200, true},
		{"/api/v1/nowhere", 404, true},
		{"/api/v1/boom", 500, true},
		{"/api", 404, true},
		{"/apiary", 404, false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			secureTestCheck(t, rec.Header(), tc.api)
		})
	}
}

func TestSecureHeadersCSPHasNoInlineScript(t *testing.T) {
	rec := httptest.NewRecorder()
	SecureHeaders(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP contains %q: %s", bad, csp)
		}
	}
	for _, want := range []string{"frame-ancestors 'none'", "object-src 'none'", "script-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
}

func TestRedirectToHTTPS(t *testing.T) {
	tests := []struct {
		port, host, target string
		want               string // Location; "" means 400
	}{
		{"8443", "chat.example.com", "/a/b?x=1&y=2", "https://chat.example.com:8443/a/b?x=1&y=2"},
		{"8443", "Chat.Example.COM:80", "/", "https://chat.example.com:8443/"},
		{"443", "chat.example.com:8080", "/login", "https://chat.example.com/login"},
		{"", "chat.example.com.", "/", "https://chat.example.com/"},
		{"8443", "127.0.0.1:80", "/x", "https://127.0.0.1:8443/x"},
		{"8443", "[::1]:80", "/x", "https://[::1]:8443/x"},
		{"8443", "[::1]", "/x", "https://[::1]:8443/x"},
		{"8443", "localhost", "/%2e%2e/%20sp", "https://localhost:8443/%2e%2e/%20sp"},
		{"8443", "localhost", "//evil.example/x", "https://localhost:8443//evil.example/x"},
		{"8443", "localhost", "/q?a=%22<x>%22", "https://localhost:8443/q?a=%22%3Cx%3E%22"},
		// Host header injection and junk (I3): 400, nothing reflected.
		{"8443", "", "/", ""},
		{"8443", "evil.example/x", "/", ""},
		{"8443", "evil.example\r\nSet-Cookie: a=b", "/", ""},
		{"8443", "good.example@evil.example", "/", ""},
		{"8443", "evil.example#", "/", ""},
		{"8443", "evil.example?", "/", ""},
		{"8443", "a b", "/", ""},
		{"8443", "::1", "/", ""},
		{"8443", "[fe80::1%25eth0]:80", "/", ""},
		{"8443", "[1.2.3.4]", "/", ""},
		{"8443", "[::1]junk", "/", ""},
		{"8443", "example.com:http", "/", ""},
		{"8443", "example.com:99999", "/", ""},
		{"8443", "-bad.example", "/", ""},
		{"8443", "bad-.example", "/", ""},
		{"8443", "a..b", "/", ""},
		{"8443", "under_score.example", "/", ""},
		{"8443", "ex\u00e4mple.com", "/", ""},
		{"8443", strings.Repeat("a", 64) + ".example", "/", ""},
		{"8443", strings.Repeat("a.", 130) + "example", "/", ""},
	}
	for _, tc := range tests {
		t.Run(tc.host+tc.target, func(t *testing.T) {
			req := httptest.NewRequest("POST", tc.target, strings.NewReader("secret=1"))
			req.Host = tc.host
			rec := httptest.NewRecorder()
			RedirectToHTTPS(tc.port).ServeHTTP(rec, req)
			body := rec.Body.String()
			if len(body) > 32 {
				t.Errorf("body too large: %q", body)
			}
			if tc.host != "" && strings.Contains(body, tc.host) {
				t.Errorf("body reflects the Host header: %q", body)
			}
			if tc.want == "" {
				if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
					t.Fatalf("status %d Location %q, want 400 and none", rec.Code, rec.Header().Get("Location"))
				}
				return
			}
			if rec.Code != http.StatusPermanentRedirect {
				t.Fatalf("status %d, want 308", rec.Code)
			}
			if got := rec.Header().Get("Location"); got != tc.want {
				t.Errorf("Location = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRedirectToHTTPSBadPortPanics(t *testing.T) {
	for _, p := range []string{"abc", "0", "65536", "08443", "-1", ":8443"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RedirectToHTTPS(%q) did not panic", p)
				}
			}()
			RedirectToHTTPS(p)
		}()
	}
}
