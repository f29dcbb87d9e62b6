package httpapi

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// stubOTP only fills the interface: the route table is built, never called.
type stubOTP struct{ parley.OTPService }

// TestOTPRoutes: every one-time-code and push route names a known
// permission (Z1); only the steps that a pending login's mfa_token
// authorises are public (A9), changing one's own addresses needs step-up
// (A6), and the OpenAPI document lists every route.
func TestOTPRoutes(t *testing.T) {
	a := New(Services{OTP: stubOTP{}}, DefaultConfig(), slog.New(slog.DiscardHandler))
	public := []string{"/api/v1/auth/otp/send", "/api/v1/auth/push/begin", "/api/v1/auth/push/poll"}
	paths := a.OpenAPI()["paths"].(map[string]map[string]any)
	n := 0
	for _, rt := range a.routes {
		if !strings.Contains(rt.Path, "/otp/") && !strings.Contains(rt.Path, "/push/") && !strings.Contains(rt.Path, "/contacts/") {
			continue
		}
		n++
		if !slices.Contains(authz.All, rt.Perm) {
			t.Errorf("%s %s: unknown permission %q", rt.Method, rt.Path, rt.Perm)
		}
		if (rt.Perm == authz.PermPublic) != slices.Contains(public, rt.Path) {
			t.Errorf("%s %s: public = %v", rt.Method, rt.Path, rt.Perm == authz.PermPublic)
		}
		if strings.Contains(rt.Path, "/otp/contacts/") && rt.Method != "GET" && !authz.NeedsStepUp(rt.Perm) {
			t.Errorf("%s %s: changing an address must need step-up", rt.Method, rt.Path)
		}
		if rt.PreEnrollment {
			t.Errorf("%s %s: open before MFA enrolment", rt.Method, rt.Path)
		}
		if _, ok := paths[rt.Path]; !ok {
			t.Errorf("%s missing from OpenAPI", rt.Path)
		}
	}
	if n != 13 {
		t.Fatalf("%d otp/push routes, want 13", n)
	}
	if len(New(Services{}, DefaultConfig(), slog.New(slog.DiscardHandler)).otpRoutes()) != 0 {
		t.Fatal("routes served without the service")
	}
}
