package client

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// TestRaw: Raw reports status and error code instead of failing, sends the
// token and the JSON body, and refuses dot segments before sending.
func TestRaw(t *testing.T) {
	var gotAuth, gotBody, gotPath string
	_, c := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotAuth, gotBody, gotPath = r.Header.Get("Authorization"), string(b), r.URL.RequestURI()
		switch r.URL.Path {
		case "/api/v1/denied":
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error":{"code":"forbidden","message":"no"}}`)
		case "/api/v1/proxy":
			w.WriteHeader(http.StatusBadGateway) // not the error shape
			_, _ = io.WriteString(w, `<html>`)
		default:
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"ok":true}`)
		}
	}), WithToken("tok"))
	ctx := context.Background()

	var out struct{ OK bool }
	status, code, err := c.Raw(ctx, "POST", "/api/v1/things?x=1", map[string]string{"a": "b"}, &out)
	if err != nil || status != 201 || code != "" || !out.OK {
		t.Fatalf("success: %d %q %v %+v", status, code, err, out)
	}
	if gotAuth != "Bearer tok" || gotBody != `{"a":"b"}` || gotPath != "/api/v1/things?x=1" {
		t.Fatalf("sent auth %q body %q path %q", gotAuth, gotBody, gotPath)
	}
	if status, code, err = c.Raw(ctx, "GET", "/api/v1/denied", nil, nil); err != nil || status != 403 || code != "forbidden" {
		t.Fatalf("denied: %d %q %v", status, code, err)
	}
	if gotBody != "" {
		t.Fatalf("nil body sent %q", gotBody)
	}
	if status, code, err = c.Raw(ctx, "GET", "/api/v1/proxy", nil, &out); err != nil || status != 502 || code != "unavailable" {
		t.Fatalf("foreign error body: %d %q %v", status, code, err)
	}
	for _, p := range []string{"api/v1/me", "/api/v1/../admin", "/api/v1/%2e%2e/admin", "/api/v1/./me", "/api/v1/me#frag"} {
		gotPath = ""
		if _, _, err := c.Raw(ctx, "GET", p, nil, nil); err == nil || gotPath != "" {
			t.Errorf("Raw(%q) was sent (err %v)", p, err)
		}
	}
}
