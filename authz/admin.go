package authz

// The management plane (I6): which operations are administrative, and so
// move to the management listener when one is configured. The split follows
// the permission a route names, never its path, so that a new route cannot
// land on the wrong listener by accident: every permission is classified
// here explicitly, and TestEveryPermissionHasAPlane fails for one that is
// not.

// administrative are the permissions of administrative operations: account
// creation, unlocking and offboarding, the department tree, roles and their
// grants, supervision, access review, security policy, the audit trail and
// the server's build information. None of them is held by the "user" role.
var administrative = map[Permission]bool{
	PermUsersCreate:        true,
	PermUsersManage:        true,
	PermUsersUnlock:        true,
	PermDepartmentsManage:  true,
	PermRolesRead:          true,
	PermRolesGrant:         true,
	PermRolesManage:        true,
	PermSupervise:          true,
	PermSupervisionApprove: true,
	PermAccessReview:       true,
	PermAuditRead:          true,
	PermSecurityPolicy:     true,
	PermSystemInfo:         true,
}

// userPlane are the permissions of operations every user needs, served by
// the user listener only. Login, MFA, step-up and the caller's own session
// (PermPublic, PermSelf, PermCredentials) are here too: an administrator
// logs in and steps up on the user listener and presents that session's
// token to the management listener.
var userPlane = map[Permission]bool{
	PermPublic:              true,
	PermSelf:                true,
	PermCredentials:         true,
	PermConversationsCreate: true,
	PermConversationsRead:   true,
	PermMessagesSend:        true,
	PermMessagesRead:        true,
	PermDirectoryRead:       true,
}

// Administrative reports whether operations under p are administrative:
// served by the management listener when one is configured, and refused
// (as unknown) by the user listener then (I6). An unclassified permission
// is not administrative; the test keeps every permission classified.
func Administrative(p Permission) bool { return administrative[p] }
