package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

func testAPI() *API { return New(Services{}, DefaultConfig(), slog.New(slog.DiscardHandler)) }

// TestEveryRouteNamesAKnownPermission: deny by default means no route may
// lack a permission or name one the table does not know (Z1).
func TestEveryRouteNamesAKnownPermission(t *testing.T) {
	for _, rt := range testAPI().routes {
		if rt.Perm == "" || !slices.Contains(authz.All, rt.Perm) {
			t.Errorf("%s %s names permission %q", rt.Method, rt.Path, rt.Perm)
		}
		if rt.Handle == nil || rt.Status == 0 || rt.Summary == "" {
			t.Errorf("%s %s is incomplete", rt.Method, rt.Path)
		}
		public := rt.Perm == authz.PermPublic
		wantPublic := rt.Path == "/healthz" || rt.Path == "/readyz" || strings.HasSuffix(rt.Path, "/openapi.json") ||
			strings.HasSuffix(rt.Path, "/setup") || strings.HasSuffix(rt.Path, "/auth/login") || strings.HasSuffix(rt.Path, "/auth/mfa")
		if public != wantPublic {
			t.Errorf("%s %s: public = %v", rt.Method, rt.Path, public)
		}
	}
}

// TestOpenAPIMatchesRoutes: the served document lists exactly the routes
// the mux serves, each with its success status and schemas that resolve.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	a := testAPI()
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	n := 0
	for _, ops := range doc.Paths {
		n += len(ops)
	}
	if n != len(a.routes) {
		t.Fatalf("document has %d operations, route table %d", n, len(a.routes))
	}
	for _, rt := range a.routes {
		op, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s %s missing from the document", rt.Method, rt.Path)
			continue
		}
		var o struct {
			Responses map[string]json.RawMessage `json:"responses"`
		}
		_ = json.Unmarshal(op, &o)
		if _, ok := o.Responses[itoa(rt.Status)]; !ok {
			t.Errorf("%s %s: no %d response documented", rt.Method, rt.Path, rt.Status)
		}
	}
	for _, ref := range strings.Split(rec.Body.String(), `"$ref": "#/components/schemas/`)[1:] {
		name := ref[:strings.IndexByte(ref, '"')]
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("dangling $ref %s", name)
		}
	}
	// The schema of a request forbids unknown fields, as the decoder does.
	var sr struct {
		AdditionalProperties bool     `json:"additionalProperties"`
		Required             []string `json:"required"`
	}
	_ = json.Unmarshal(doc.Components.Schemas["SendRequest"], &sr)
	if sr.AdditionalProperties || !slices.Contains(sr.Required, "client_msg_id") {
		t.Fatalf("SendRequest schema = %+v", sr)
	}
}

func TestErrorShapeAndStatusTable(t *testing.T) {
	codes := []parley.Code{parley.CodeInvalid, parley.CodeUnauthenticated, parley.CodeForbidden, parley.CodeStepUpRequired,
		parley.CodeMFARequired, parley.CodeMFAEnrollmentRequired, parley.CodeNotFound, parley.CodeConflict, parley.CodeLocked,
		parley.CodeRateLimited, parley.CodeTooLarge, parley.CodeUnavailable, parley.CodeInternal}
	for _, c := range codes {
		if _, ok := statusOf[c]; !ok {
			t.Errorf("no status for %s", c)
		}
	}
	a := testAPI()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/x", nil)
	e := parley.Errorf(parley.CodeRateLimited, "slow down")
	e.RetryAfter = 1500_000_000
	a.writeError(rec, req, e)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	rec = httptest.NewRecorder()
	a.writeError(rec, req, parley.Internal("op", errSecret{}))
	var body wire.ErrorBody
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != 500 || body.Error.Code != "internal" || strings.Contains(rec.Body.String(), "hunter2") {
		t.Fatalf("internal error leaked: %d %s", rec.Code, rec.Body.String())
	}
}

type errSecret struct{}

func (errSecret) Error() string { return "db password hunter2" }

func TestUnknownPathAndMethodUseErrorShape(t *testing.T) {
	a := testAPI()
	for _, c := range []struct {
		method, path string
		status       int
	}{{"GET", "/nope", 404}, {"PUT", "/api/v1/conversations", 400}, {"GET", "/healthz", 200}} {
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.status || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s %s: %d %q", c.method, c.path, rec.Code, rec.Header().Get("Content-Type"))
		}
		if rec.Header().Get("Strict-Transport-Security") == "" {
			t.Errorf("%s %s: no HSTS", c.method, c.path)
		}
	}
}

// TestClientIPIgnoresSpoofedForwardedFor: X-Forwarded-For counts only from
// a configured trusted proxy (I1).
func TestClientIPIgnoresSpoofedForwardedFor(t *testing.T) {
	a := testAPI()
	a.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct{ remote, xff, want string }{
		{"203.0.113.5:4000", "198.51.100.1", "203.0.113.5"},
		{"10.1.2.3:4000", "198.51.100.1", "198.51.100.1"},
		{"10.1.2.3:4000", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"10.1.2.3:4000", "garbage", "10.1.2.3"},
		{"[::ffff:203.0.113.5]:4000", "", "203.0.113.5"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := a.clientIP(r); got != c.want {
			t.Errorf("remote %s xff %q: got %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
	_ = http.StatusOK
}
