package httpapi

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// nopWebAuthn stands in for the passkey service so that its routes are
// registered; the ceremonies are tested end to end (e2e/webauthn_test.go).
type nopWebAuthn struct{ parley.WebAuthnService }

// TestWebAuthnRoutes pins the security shape of the passkey routes: only
// the login half is public (its credential is the mfa_token), only
// registration passes the enrolment gate (A2), and removing a passkey is
// PermCredentials, which the router answers with step-up (A6).
func TestWebAuthnRoutes(t *testing.T) {
	a := New(Services{WebAuthn: nopWebAuthn{}}, DefaultConfig(), slog.New(slog.DiscardHandler))
	n := 0
	for _, rt := range a.routes {
		if !strings.HasPrefix(rt.Path, "/api/v1/auth/webauthn/") {
			continue
		}
		n++
		public := strings.Contains(rt.Path, "/login/")
		if (rt.Perm == authz.PermPublic) != public {
			t.Errorf("%s %s: permission %s", rt.Method, rt.Path, rt.Perm)
		}
		if rt.PreEnrollment != strings.Contains(rt.Path, "/register/") {
			t.Errorf("%s %s: PreEnrollment = %v", rt.Method, rt.Path, rt.PreEnrollment)
		}
		if rt.Method == "DELETE" && (rt.Perm != authz.PermCredentials || !authz.NeedsStepUp(rt.Perm)) {
			t.Errorf("%s %s: removing a passkey must need step-up", rt.Method, rt.Path)
		}
		if rt.Handle == nil || rt.Summary == "" || rt.Status == 0 {
			t.Errorf("%s %s is incomplete", rt.Method, rt.Path)
		}
	}
	if n != 8 {
		t.Fatalf("%d passkey routes, want 8", n)
	}
	doc, err := json.Marshal(a.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/register/begin", "/register/finish", "/login/begin", "/login/finish", "/step-up/begin", "/step-up/finish", "/credentials/{id}"} {
		if !strings.Contains(string(doc), `"/api/v1/auth/webauthn`+p+`"`) {
			t.Errorf("OpenAPI lacks %s", p)
		}
	}
	if a2 := New(Services{}, DefaultConfig(), slog.New(slog.DiscardHandler)); len(a2.webauthnRoutes()) != 0 {
		t.Fatal("routes without a service")
	}
}

func TestCredentialJSON(t *testing.T) {
	for _, ok := range []string{`{}`, ` {"id":"x"}`} {
		if _, err := credentialJSON(json.RawMessage(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{``, `null`, `"x"`, `[{}]`, `1`} {
		if _, err := credentialJSON(json.RawMessage(bad)); parley.ErrorCode(err) != parley.CodeInvalid {
			t.Errorf("%q: err = %v, want invalid", bad, err)
		}
	}
}

func TestFormatAAGUID(t *testing.T) {
	b := []byte{0xee, 0x88, 0x28, 0x79, 0x72, 0x1c, 0x49, 0x13, 0x97, 0x75, 0x3d, 0xfc, 0xce, 0x97, 0x07, 0x2a}
	if got := formatAAGUID(b); got != "ee882879-721c-4913-9775-3dfcce97072a" {
		t.Fatalf("formatAAGUID = %s", got)
	}
	if got := formatAAGUID(nil); got != "00000000-0000-0000-0000-000000000000" {
		t.Fatalf("formatAAGUID(nil) = %s", got)
	}
}
