package authz

import (
	"testing"

	"github.com/parleyhq/parley"
)

// TestAdministrativeOperations pins the management-plane split (I6): which
// listener serves an operation is a security decision, made here in review.
// A permission added to All without a line here fails the test.
func TestAdministrativeOperations(t *testing.T) {
	want := map[Permission]bool{
		PermPublic:              false,
		PermSelf:                false,
		PermCredentials:         false,
		PermConversationsCreate: false,
		PermConversationsRead:   false,
		PermMessagesSend:        false,
		PermMessagesRead:        false,
		PermDirectoryRead:       false,
		PermUsersCreate:         true,
		PermDepartmentsManage:   true,
		PermAuditRead:           true,
		PermSecurityPolicy:      true,
		PermUsersUnlock:         true,
		PermSystemInfo:          true,
		PermRolesRead:           true,
		PermRolesGrant:          true,
		PermRolesManage:         true,
		PermUsersManage:         true,
		PermSupervise:           true,
		PermSupervisionApprove:  true,
		PermAccessReview:        true,
	}
	for _, p := range All {
		w, ok := want[p]
		if !ok {
			t.Errorf("permission %s: not pinned here; decide whether it is administrative (I6)", p)
			continue
		}
		if got := Administrative(p); got != w {
			t.Errorf("Administrative(%s) = %v, want %v", p, got, w)
		}
	}
}

// TestEveryPermissionHasAPlane: each permission the router may name is in
// exactly one of the two sets of admin.go, and neither set names a
// permission that does not exist (a stale entry would hide a rename).
func TestEveryPermissionHasAPlane(t *testing.T) {
	known := map[Permission]bool{}
	for _, p := range All {
		known[p] = true
		switch {
		case administrative[p] && userPlane[p]:
			t.Errorf("permission %s is both administrative and user-plane", p)
		case !administrative[p] && !userPlane[p]:
			t.Errorf("permission %s is unclassified: add it to administrative or userPlane in admin.go (I6)", p)
		}
	}
	for _, set := range []map[Permission]bool{administrative, userPlane} {
		for p := range set {
			if !known[p] {
				t.Errorf("admin.go classifies %s, which is not in All", p)
			}
		}
	}
}

// TestUserRoleIsUserPlane: nothing an ordinary account holds moves to the
// management listener, or users would lose it when one is configured.
func TestUserRoleIsUserPlane(t *testing.T) {
	for _, p := range BuiltinPermissions(parley.RoleUser) {
		if Administrative(p) {
			t.Errorf("the user role holds %s, which is administrative", p)
		}
	}
}
