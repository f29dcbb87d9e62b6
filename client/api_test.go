package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/wire"
)

func asAPIError(err error, target **APIError) bool { return errors.As(err, target) }

func TestAPIErrorDecoding(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		code       string
		message    string
		retryAfter time.Duration // checked approximately for dates
	}{
		{name: "documented shape", status: 404, body: `{"error":{"code":"not_found","message":"no such conversation"}}`,
			code: "not_found", message: "no such conversation"},
		{name: "rate limited with seconds", status: 429, header: map[string]string{"Retry-After": "30"},
			body: `{"error":{"code":"rate_limited","message":"slow down"}}`, code: "rate_limited", message: "slow down", retryAfter: 30 * time.Second},
		{name: "locked with date", status: 423, header: map[string]string{"Retry-After": date},
			body: `{"error":{"code":"locked","message":"account locked"}}`, code: "locked", message: "account locked", retryAfter: 90 * time.Second},
		{name: "proxy html", status: 502, body: `<html>bad gateway</html>`, code: "unavailable"},
		{name: "empty 401", status: 401, code: "unauthenticated"},
		{name: "extra fields tolerated", status: 403, body: `{"error":{"code":"mfa_enrollment_required","message":"enrol first","hint":"x"}}`,
			code: "mfa_enrollment_required", message: "enrol first"},
		{name: "unknown 5xx", status: 500, body: `{}`, code: "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			_, err := c.Me(context.Background())
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if e.Status != tt.status || e.Code != tt.code || e.Message != tt.message {
				t.Errorf("got %+v", e)
			}
			if d := e.RetryAfter - tt.retryAfter; d < -2*time.Second || d > 2*time.Second {
				t.Errorf("RetryAfter = %v, want ≈%v", e.RetryAfter, tt.retryAfter)
			}
			if !IsCode(fmt.Errorf("wrapped: %w", err), tt.code) {
				t.Error("IsCode false through wrapping")
			}
			if IsCode(err, "conflict") {
				t.Error("IsCode true for another code")
			}
			if !strings.Contains(e.Error(), "("+tt.code+")") {
				t.Errorf("Error() = %q lacks the code", e.Error())
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"120", 2 * time.Minute},
		{"99999999999999", 365 * 24 * time.Hour},
		{now.Add(time.Minute).Format(http.TimeFormat), time.Minute},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// authServer answers the auth endpoints and records the Authorization header
// of every request.
type authServer struct {
	auths map[string]string // path → Authorization header
}

func (s *authServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.auths[r.URL.Path] = r.Header.Get("Authorization")
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api/v1/auth/login":
		var req wire.LoginRequest
		if err := wire.Decode(r.Body, wire.MaxBodyBytes, &req); err != nil {
			w.WriteHeader(400)
			return
		}
		if req.Username == "mfa" {
			_, _ = io.WriteString(w, `{"mfa_required":true,"mfa_token":"m1","methods":["totp","recovery_code"]}`)
			return
		}
		_, _ = io.WriteString(w, `{"token":"tok-login","expires_at":"2026-01-01T00:00:00Z"}`)
	case "/api/v1/auth/mfa":
		var req wire.MFARequest
		if err := wire.Decode(r.Body, wire.MaxBodyBytes, &req); err != nil || req.MFAToken != "m1" || req.Method != "totp" || req.Code != "123456" {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":{"code":"unauthenticated","message":"bad code"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"token":"tok-mfa","expires_at":"2026-01-01T00:00:00Z"}`)
	case "/api/v1/auth/totp/confirm":
		_, _ = io.WriteString(w, `{"recovery_codes":["a","b"],"token":"tok-confirmed","expires_at":"2026-01-01T00:00:00Z"}`)
	case "/api/v1/me":
		_, _ = io.WriteString(w, `{"user_id":"u1","username":"ann","display_name":"Ann","department_id":"","roles":["user"],"mfa_enrolled":true}`)
	case "/api/v1/auth/logout":
		w.WriteHeader(204)
	default:
		w.WriteHeader(404)
	}
}

func TestTokenKept(t *testing.T) {
	ctx := context.Background()
	s := &authServer{auths: map[string]string{}}
	_, c := newTestServer(t, s, WithToken("stale"))

	resp, err := c.Login(ctx, "ann", "pw")
	if err != nil || resp.Token != "tok-login" || c.Token() != "tok-login" {
		t.Fatalf("Login: %+v, %v, token %q", resp, err, c.Token())
	}
	if got := s.auths["/api/v1/auth/login"]; got != "" {
		t.Errorf("login sent Authorization %q; a stale token must not be presented", got)
	}
	if _, err := c.Me(ctx); err != nil || s.auths["/api/v1/me"] != "Bearer tok-login" {
		t.Fatalf("Me: %v, Authorization %q", err, s.auths["/api/v1/me"])
	}

	c.SetToken("")
	resp, err = c.Login(ctx, "mfa", "pw")
	if err != nil || !resp.MFARequired || resp.MFAToken != "m1" || c.Token() != "" {
		t.Fatalf("Login (MFA): %+v, %v, token %q", resp, err, c.Token())
	}
	if _, err := c.CompleteMFA(ctx, "m1", "totp", "000000"); !IsCode(err, "unauthenticated") || c.Token() != "" {
		t.Fatalf("CompleteMFA with a bad code: %v, token %q", err, c.Token())
	}
	if _, err := c.CompleteMFA(ctx, "m1", "totp", "123456"); err != nil || c.Token() != "tok-mfa" {
		t.Fatalf("CompleteMFA: %v, token %q", err, c.Token())
	}

	conf, err := c.ConfirmTOTP(ctx, "123456")
	if err != nil || c.Token() != "tok-confirmed" || len(conf.RecoveryCodes) != 2 {
		t.Fatalf("ConfirmTOTP: %+v, %v, token %q", conf, err, c.Token())
	}
	if s.auths["/api/v1/auth/totp/confirm"] != "Bearer tok-mfa" {
		t.Errorf("confirm sent %q", s.auths["/api/v1/auth/totp/confirm"])
	}

	if err := c.Logout(ctx); err != nil || c.Token() != "" {
		t.Fatalf("Logout: %v, token %q", err, c.Token())
	}
	if s.auths["/api/v1/auth/logout"] != "Bearer tok-confirmed" {
		t.Errorf("logout sent %q", s.auths["/api/v1/auth/logout"])
	}
}

func TestPathEscaping(t *testing.T) {
	var gotPath string
	_, c := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.EscapedPath()
		_, _ = io.WriteString(w, `{"messages":[]}`)
	}))
	ctx := context.Background()
	if _, err := c.History(ctx, "a/b c?d#e%", 0, 0); err != nil {
		t.Fatal(err)
	}
	if want := "/api/v1/conversations/a%2Fb%20c%3Fd%23e%25/messages"; gotPath != want {
		t.Errorf("path = %q, want %q", gotPath, want)
	}
	for _, id := range []string{"", ".", ".."} {
		gotPath = ""
		if _, err := c.History(ctx, id, 0, 0); err == nil {
			t.Errorf("History(%q) accepted", id)
		}
		if err := c.RevokeSession(ctx, id); err == nil {
			t.Errorf("RevokeSession(%q) accepted", id)
		}
		if gotPath != "" {
			t.Errorf("request sent for id %q", id)
		}
	}
}

// TestRequestShapes checks method, path, query and body of every REST call.
func TestRequestShapes(t *testing.T) {
	type seen struct{ method, path, query, body string }
	var got seen
	var reply string
	var status int
	_, c := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(b)}
		if len(b) > 0 && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	}), WithToken("t"))
	ctx := context.Background()
	tests := []struct {
		name   string
		status int
		reply  string
		call   func() error
		want   seen
	}{
		{"setup", 201, `{"user_id":"u1"}`, func() error {
			id, err := c.Setup(ctx, wire.SetupRequest{SetupToken: "s", Username: "a", Password: "p", DisplayName: "A"})
			return expect(id, "u1", err)
		}, seen{"POST", "/api/v1/setup", "", `{"setup_token":"s","username":"a","password":"p","display_name":"A"}`}},
		{"enroll", 200, `{"secret":"S","otpauth_url":"otpauth://x"}`, func() error {
			r, err := c.EnrollTOTP(ctx)
			if err != nil {
				return err
			}
			return expect(r.Secret, "S", nil)
		}, seen{"POST", "/api/v1/auth/totp/enroll", "", `{}`}},
		{"create user", 201, `{"user_id":"u2"}`, func() error {
			id, err := c.CreateUser(ctx, wire.CreateUserRequest{Username: "b", DisplayName: "B", Password: "p", Roles: []string{"user"}})
			return expect(id, "u2", err)
		}, seen{"POST", "/api/v1/users", "", `{"username":"b","display_name":"B","password":"p","roles":["user"]}`}},
		{"users", 200, `{"users":[{"user_id":"u2","username":"b","display_name":"B","department_id":"d"}]}`, func() error {
			u, err := c.Users(ctx, "b&x")
			return expect(len(u), 1, err)
		}, seen{"GET", "/api/v1/users", "q=b%26x", ""}},
		{"users all", 200, `{"users":[]}`, func() error { _, err := c.Users(ctx, ""); return err },
			seen{"GET", "/api/v1/users", "", ""}},
		{"create department", 201, `{"department_id":"d1","name":"Ops"}`, func() error {
			d, err := c.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Ops"})
			if err != nil {
				return err
			}
			return expect(d.DepartmentID, "d1", nil)
		}, seen{"POST", "/api/v1/departments", "", `{"name":"Ops"}`}},
		{"departments", 200, `{"departments":[{"department_id":"d1","name":"Ops"}]}`, func() error {
			d, err := c.Departments(ctx)
			return expect(len(d), 1, err)
		}, seen{"GET", "/api/v1/departments", "", ""}},
		{"create conversation", 201, `{"conversation_id":"c1"}`, func() error {
			id, err := c.CreateConversation(ctx, "group", []string{"u2", "u3"}, "T")
			return expect(id, "c1", err)
		}, seen{"POST", "/api/v1/conversations", "", `{"type":"group","member_ids":["u2","u3"],"title":"T"}`}},
		{"conversations", 200, `{"conversations":[{"conversation_id":"c1","type":"group","title":"T","member_ids":["u1"],"last_seq":4}]}`, func() error {
			cs, err := c.Conversations(ctx)
			if err != nil {
				return err
			}
			return expect(cs[0].LastSeq, int64(4), nil)
		}, seen{"GET", "/api/v1/conversations", "", ""}},
		{"send", 201, `{"message_id":"m1","seq":5,"sent_at":"2026-01-01T00:00:00Z"}`, func() error {
			r, err := c.Send(ctx, "c1", "cm1", "hi")
			if err != nil {
				return err
			}
			return expect(r.Seq, int64(5), nil)
		}, seen{"POST", "/api/v1/conversations/c1/messages", "", `{"client_msg_id":"cm1","body":"hi"}`}},
		{"history", 200, `{"messages":[{"message_id":"m1","seq":5,"sender_id":"u1","body":"hi","sent_at":"2026-01-01T00:00:00Z"}]}`, func() error {
			m, err := c.History(ctx, "c1", 4, 10)
			return expect(len(m), 1, err)
		}, seen{"GET", "/api/v1/conversations/c1/messages", "after_seq=4&limit=10", ""}},
		{"history before", 200, `{"messages":[]}`, func() error { _, err := c.HistoryBefore(ctx, "c1", 9, 3); return err },
			seen{"GET", "/api/v1/conversations/c1/messages", "before_seq=9&limit=3", ""}},
		{"mark read", 204, ``, func() error { return c.MarkRead(ctx, "c1", 5) },
			seen{"POST", "/api/v1/conversations/c1/read", "", `{"seq":5}`}},
		{"read markers", 200, `{"read_markers":[{"user_id":"u1","seq":5}]}`, func() error {
			r, err := c.ReadMarkers(ctx, "c1")
			return expect(len(r), 1, err)
		}, seen{"GET", "/api/v1/conversations/c1/read", "", ""}},
		{"sessions", 200, `{"sessions":[{"session_id":"s1","current":true}]}`, func() error {
			s, err := c.Sessions(ctx)
			return expect(len(s), 1, err)
		}, seen{"GET", "/api/v1/sessions", "", ""}},
		{"revoke session", 204, ``, func() error { return c.RevokeSession(ctx, "s1") },
			seen{"DELETE", "/api/v1/sessions/s1", "", ""}},
		{"audit", 200, `{"records":[{"seq":1,"action":"login","result":"ok","prev_hash":"","hash":"h"}]}`, func() error {
			r, err := c.Audit(ctx, 7, 100)
			return expect(len(r), 1, err)
		}, seen{"GET", "/api/v1/audit", "after_seq=7&limit=100", ""}},
	}
	for _, tt := range tests {
		got, status, reply = seen{}, tt.status, tt.reply
		if err := tt.call(); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: sent %+v, want %+v", tt.name, got, tt.want)
		}
		if tt.want.body != "" && !json.Valid([]byte(got.body)) {
			t.Errorf("%s: body not JSON", tt.name)
		}
	}
}

func expect[T comparable](got, want T, err error) error {
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("got %v, want %v", got, want)
	}
	return nil
}
