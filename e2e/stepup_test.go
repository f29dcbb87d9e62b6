package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// enrolledAdmin creates a user with role through the setup administrator
// (bootstrap grant), logs it in and enrols TOTP, returning its client and
// TOTP secret.
func enrolledAdmin(ctx context.Context, t *testing.T, s *parleytest.Server, admin *parleytest.Admin, name, role string) (*client.Client, string) {
	t.Helper()
	if _, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: name, DisplayName: name, Password: parleytest.Password,
		Roles: []string{role}}); err != nil {
		t.Fatal(err)
	}
	c := s.Login(ctx, name)
	enr, err := c.EnrollTOTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfirmTOTP(ctx, s.TOTPCode(enr.Secret)); err != nil {
		t.Fatal(err)
	}
	return c, enr.Secret
}

// TestStepUpForSensitiveOperations: security policy needs a second factor
// used within five minutes (A6); stepping up replaces the session (A5) and
// a password is no step-up for an account that has MFA.
func TestStepUpForSensitiveOperations(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	sec, secret := enrolledAdmin(ctx, t, s, admin, "sec", "security_admin")

	if _, err := sec.MFAPolicy(ctx); err != nil {
		t.Fatalf("fresh from enrolment: %v", err)
	}
	s.Clock.Advance(6 * time.Minute)
	if _, err := sec.Me(ctx); err != nil { // keep the session alive; not sensitive
		t.Fatal(err)
	}
	_, err := sec.MFAPolicy(ctx)
	expectCode(t, err, "step_up_required")
	_, err = sec.StepUp(ctx, "password", "", parleytest.Password)
	expectCode(t, err, "invalid")
	_, err = sec.StepUp(ctx, "totp", "123456", "")
	expectCode(t, err, "unauthenticated")
	old := sec.Token()
	if _, err := sec.StepUp(ctx, "totp", s.TOTPCode(secret), ""); err != nil {
		t.Fatal(err)
	}
	if sec.Token() == old {
		t.Fatal("step-up kept the session ID")
	}
	stale, _ := client.New(s.URL, client.WithCAFile(s.CAFile), client.WithToken(old))
	_, err = stale.Me(ctx)
	expectCode(t, err, "unauthenticated")
	if _, err := sec.MFAPolicy(ctx); err != nil {
		t.Fatalf("after step-up: %v", err)
	}
	// The system admin runs the system but sets no security policy (Z10).
	_, err = admin.MFAPolicy(ctx)
	expectCode(t, err, "forbidden")
}

// TestMFAPolicyByDepartment: MFA rolled out to a department subtree with a
// grace period, then to everyone (A2).
func TestMFAPolicyByDepartment(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	sec, secSecret := enrolledAdmin(ctx, t, s, admin, "sec", "security_admin")
	finance, err := admin.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Finance"})
	if err != nil {
		t.Fatal(err)
	}
	payroll, err := admin.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Payroll", ParentID: finance.DepartmentID})
	if err != nil {
		t.Fatal(err)
	}
	for name, dep := range map[string]string{"fred": payroll.DepartmentID, "gina": ""} {
		if _, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: name, DisplayName: name,
			Password: parleytest.Password, DepartmentID: dep}); err != nil {
			t.Fatal(err)
		}
	}
	grace := s.Clock.Now().Add(time.Hour)
	if _, err := sec.SetMFAPolicy(ctx, wire.MFAPolicy{Departments: []wire.DepartmentMFARule{
		{DepartmentID: finance.DepartmentID, GraceUntil: &grace}}}); err != nil {
		t.Fatal(err)
	}
	_, err = sec.SetMFAPolicy(ctx, wire.MFAPolicy{Departments: []wire.DepartmentMFARule{{DepartmentID: "d_nowhere"}}})
	expectCode(t, err, "not_found")

	fred := s.Login(ctx, "fred")
	if _, err := fred.Conversations(ctx); err != nil {
		t.Fatalf("during the grace period: %v", err)
	}
	s.Clock.Advance(61 * time.Minute)
	fred = s.Login(ctx, "fred")
	_, err = fred.Conversations(ctx)
	expectCode(t, err, "mfa_enrollment_required") // Payroll is under Finance
	gina := s.Login(ctx, "gina")
	if _, err := gina.Conversations(ctx); err != nil {
		t.Fatalf("outside the department: %v", err)
	}

	// Everyone: the idle security admin logs in again with TOTP.
	sec = s.Client()
	res, err := sec.Login(ctx, "sec", parleytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sec.CompleteMFA(ctx, res.MFAToken, "totp", s.TOTPCode(secSecret)); err != nil {
		t.Fatal(err)
	}
	if _, err := sec.SetMFAPolicy(ctx, wire.MFAPolicy{RequireAll: true}); err != nil {
		t.Fatal(err)
	}
	_, err = gina.Conversations(ctx)
	expectCode(t, err, "mfa_enrollment_required")
	if _, err := gina.EnrollTOTP(ctx); err != nil { // enrolment stays open to her
		t.Fatal(err)
	}
}
