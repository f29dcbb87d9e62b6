package parley

import (
	"context"
	"time"
)

// MFAPolicy says which users must have a second factor beyond those whose
// roles already demand one (A2: every administrative role, always). It is
// security policy: data in the database, changed by a security admin
// through the audited API (Z10).
type MFAPolicy struct {
	// RequireAll demands MFA of every user (the mlps3 posture, A10).
	RequireAll bool
	// Departments roll MFA out by department; a requirement covers the
	// department's sub-departments. Until GraceUntil, members are reminded
	// but not yet held at the enrolment gate.
	Departments []DepartmentMFA
}

// DepartmentMFA requires MFA in one department subtree.
type DepartmentMFA struct {
	DepartmentID DepartmentID
	GraceUntil   time.Time // zero: enforced at once
}

// MFAPolicyService reads and changes the MFA policy.
type MFAPolicyService interface {
	MFAPolicy(ctx context.Context, a *Actor) (*MFAPolicy, error)
	SetMFAPolicy(ctx context.Context, a *Actor, p *MFAPolicy) error
}
