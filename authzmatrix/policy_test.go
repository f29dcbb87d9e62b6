package authzmatrix

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// The walk takes its expectations from the permission table, so it proves
// that the server enforces the table, not that the table is right. What
// follows is the other half: the requirements' view of each role, written
// down independently of authz, which the table and the observed matrix
// must both respect. A new route whose permission a role should not have,
// or a permission moved into the wrong role, fails here.

// pinned is the built-in role table as reviewed (Z2–Z5, Z10). A change to
// authz's table must be made here too, in review.
var pinned = map[parley.Role][]authz.Permission{
	parley.RoleUser: {authz.PermSelf, authz.PermCredentials, authz.PermConversationsCreate, authz.PermConversationsRead,
		authz.PermMessagesSend, authz.PermMessagesRead, authz.PermDirectoryRead},
	parley.RoleDepartmentAdmin: {authz.PermSelf, authz.PermCredentials, authz.PermDirectoryRead, authz.PermSupervise},
	parley.RoleSystemAdmin: {authz.PermSelf, authz.PermCredentials, authz.PermDirectoryRead, authz.PermUsersCreate,
		authz.PermUsersManage, authz.PermDepartmentsManage, authz.PermUsersUnlock, authz.PermSystemInfo, authz.PermRolesRead},
	parley.RoleSecurityAdmin: {authz.PermSelf, authz.PermCredentials, authz.PermDirectoryRead, authz.PermSecurityPolicy,
		authz.PermUsersUnlock, authz.PermRolesRead, authz.PermRolesGrant, authz.PermRolesManage, authz.PermAccessReview},
	parley.RoleAuditor: {authz.PermSelf, authz.PermCredentials, authz.PermAuditRead, authz.PermRolesRead,
		authz.PermAccessReview, authz.PermSupervisionApprove},
}

func TestPinnedRoleTable(t *testing.T) {
	for _, r := range authz.Builtin() {
		got, want := authz.BuiltinPermissions(r), pinned[r]
		slices.Sort(got)
		want = slices.Clone(want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s holds %v, reviewed %v", r, got, want)
		}
	}
	if len(authz.Builtin()) != len(pinned) {
		t.Errorf("%d built-in roles, %d reviewed", len(authz.Builtin()), len(pinned))
	}
}

// never lists, per role, the permissions whose operations the role must
// not reach, from the requirements alone. Every account also holds the
// user role, so these are all administrative.
var never = map[string]struct {
	why   string
	perms []authz.Permission
}{
	"user": {"Z2, I6: the user role administers nothing", []authz.Permission{
		authz.PermUsersCreate, authz.PermUsersManage, authz.PermUsersUnlock, authz.PermDepartmentsManage,
		authz.PermAuditRead, authz.PermSecurityPolicy, authz.PermSystemInfo, authz.PermRolesRead,
		authz.PermRolesGrant, authz.PermRolesManage, authz.PermSupervise, authz.PermSupervisionApprove,
		authz.PermAccessReview}},
	"department_admin": {"Z3: supervision of its department, nothing else administrative", []authz.Permission{
		authz.PermUsersCreate, authz.PermUsersManage, authz.PermUsersUnlock, authz.PermDepartmentsManage,
		authz.PermAuditRead, authz.PermSecurityPolicy, authz.PermSystemInfo, authz.PermRolesGrant,
		authz.PermRolesManage, authz.PermSupervisionApprove, authz.PermAccessReview}},
	"system_admin": {"Z4, Z10: no security policy, no role grants, no audit, no message content", []authz.Permission{
		authz.PermSecurityPolicy, authz.PermRolesGrant, authz.PermRolesManage, authz.PermAuditRead,
		authz.PermSupervise, authz.PermSupervisionApprove, authz.PermAccessReview}},
	"security_admin": {"Z10: no users, departments or system, no audit", []authz.Permission{
		authz.PermUsersCreate, authz.PermUsersManage, authz.PermDepartmentsManage, authz.PermSystemInfo,
		authz.PermAuditRead, authz.PermSupervise, authz.PermSupervisionApprove}},
	"auditor": {"Z5, Z10: reads and reviews, changes nothing", []authz.Permission{
		authz.PermUsersCreate, authz.PermUsersManage, authz.PermUsersUnlock, authz.PermDepartmentsManage,
		authz.PermSecurityPolicy, authz.PermSystemInfo, authz.PermRolesGrant, authz.PermRolesManage,
		authz.PermSupervise}},
}

// auditorWrites are the permissions under which the auditor may use an
// operation that is not a GET: its own account and conversations (the
// user role), recording review decisions (Z8) and approving supervision
// (Z5 oversight). Anything else would be a change (Z5).
var auditorWrites = []authz.Permission{
	authz.PermSelf, authz.PermCredentials, authz.PermConversationsCreate, authz.PermMessagesSend,
	authz.PermMessagesRead, authz.PermAccessReview, authz.PermSupervisionApprove,
}

// checkSeparation holds the observed matrix (the operations each
// principal got past the gate) to the requirements.
func checkSeparation(t *testing.T, passed map[string][]operation, customPerms []authz.Permission) {
	for label, rule := range never {
		for _, op := range passed[label] {
			if slices.Contains(rule.perms, op.Perm) {
				t.Run(label+"/separation/"+op.String(), func(t *testing.T) {
					t.Errorf("reached an operation under %s (%s)", op.Perm, rule.why)
				})
			}
		}
	}
	for _, op := range passed[string(parley.RoleAuditor)] {
		if op.Method != "GET" && !slices.Contains(auditorWrites, op.Perm) {
			t.Run("auditor/read-only/"+op.String(), func(t *testing.T) {
				t.Errorf("the auditor reached a change under %s (Z5: read-only)", op.Perm)
			})
		}
	}
	// The custom role's holder reaches nothing administrative beyond the
	// role's definition (Z6 least privilege).
	for _, op := range passed[customLabel] {
		if authz.Administrative(op.Perm) && !slices.Contains(customPerms, op.Perm) {
			t.Run(customLabel+"/least-privilege/"+op.String(), func(t *testing.T) {
				t.Errorf("reached %s, which the custom role does not carry", op.Perm)
			})
		}
	}
}
