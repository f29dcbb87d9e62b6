package authz

import (
	"testing"

	"github.com/parleyhq/parley"
)

func TestAllowedDenyByDefault(t *testing.T) {
	cases := []struct {
		roles []parley.Role
		perm  Permission
		want  bool
	}{
		{[]parley.Role{parley.RoleUser}, PermMessagesSend, true},
		{[]parley.Role{parley.RoleUser}, PermUsersCreate, false},
		{[]parley.Role{parley.RoleUser}, PermAuditRead, false},
		{[]parley.Role{parley.RoleSystemAdmin}, PermUsersCreate, true},
		// Z4: system_admin alone reads no message content.
		{[]parley.Role{parley.RoleSystemAdmin}, PermMessagesRead, false},
		// Z5: the auditor reads the audit trail and nothing else.
		{[]parley.Role{parley.RoleAuditor}, PermAuditRead, true},
		{[]parley.Role{parley.RoleAuditor}, PermUsersCreate, false},
		{[]parley.Role{"made_up"}, PermSelf, false},
		{nil, PermSelf, false},
		{[]parley.Role{parley.RoleUser}, PermPublic, false},
	}
	for _, c := range cases {
		if got := Allowed(c.roles, c.perm); got != c.want {
			t.Errorf("Allowed(%v, %s) = %v, want %v", c.roles, c.perm, got, c.want)
		}
	}
}

func TestCheckRoleSet(t *testing.T) {
	cases := []struct {
		roles []parley.Role
		ok    bool
	}{
		{[]parley.Role{parley.RoleUser}, true},
		{[]parley.Role{parley.RoleUser, parley.RoleAuditor}, true},
		{[]parley.Role{parley.RoleSystemAdmin, parley.RoleAuditor}, false},
		{[]parley.Role{parley.RoleSecurityAdmin, parley.RoleSystemAdmin}, false},
		{[]parley.Role{"root"}, false},
	}
	for _, c := range cases {
		if err := CheckRoleSet(c.roles); (err == nil) != c.ok {
			t.Errorf("CheckRoleSet(%v) = %v, want ok=%v", c.roles, err, c.ok)
		}
	}
}

func TestCheckGrant(t *testing.T) {
	setup := &parley.Actor{UserID: "u_setup", Roles: []parley.Role{parley.RoleSystemAdmin, parley.RoleUser}}
	other := &parley.Actor{UserID: "u_other", Roles: []parley.Role{parley.RoleSystemAdmin, parley.RoleUser}}
	sec := &parley.Actor{UserID: "u_sec", Roles: []parley.Role{parley.RoleSecurityAdmin, parley.RoleUser}}
	boot := GrantContext{SetupAdminID: "u_setup"}
	after := GrantContext{SetupAdminID: "u_setup", SecurityAdminExists: true}
	cases := []struct {
		name    string
		grantor *parley.Actor
		target  parley.UserID
		roles   []parley.Role
		gc      GrantContext
		code    parley.Code
	}{
		{"plain user needs no grant", other, "u_x", []parley.Role{parley.RoleUser}, after, ""},
		{"bootstrap setup admin grants", setup, "u_x", []parley.Role{parley.RoleSecurityAdmin}, boot, ""},
		{"bootstrap ends with first security_admin", setup, "u_x", []parley.Role{parley.RoleAuditor}, after, parley.CodeForbidden},
		{"other system admin never grants", other, "u_x", []parley.Role{parley.RoleAuditor}, boot, parley.CodeForbidden},
		{"security admin grants", sec, "u_x", []parley.Role{parley.RoleAuditor}, after, ""},
		{"no self grant (Z9)", sec, "u_sec", []parley.Role{parley.RoleDepartmentAdmin}, after, parley.CodeForbidden},
		{"two exclusive roles refused (Z10)", sec, "u_x", []parley.Role{parley.RoleAuditor, parley.RoleSystemAdmin}, after, parley.CodeInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckGrant(c.grantor, c.target, c.roles, c.gc)
			if got := parley.ErrorCode(err); got != c.code {
				t.Fatalf("code = %q, want %q (err %v)", got, c.code, err)
			}
		})
	}
}

// TestSensitiveOperations pins the step-up table (A6): changing it is a
// security decision, made here in review.
func TestSensitiveOperations(t *testing.T) {
	want := map[Permission]bool{PermCredentials: true, PermSecurityPolicy: true, PermUsersUnlock: true,
		PermRolesGrant: true, PermRolesManage: true, PermUsersManage: true, PermSupervise: true,
		PermSupervisionApprove: true}
	for _, p := range All {
		if NeedsStepUp(p) != want[p] {
			t.Errorf("NeedsStepUp(%s) = %v, want %v", p, NeedsStepUp(p), want[p])
		}
	}
}
