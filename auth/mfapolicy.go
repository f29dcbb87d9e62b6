package auth

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

const settingMFAPolicy = "mfa_policy"

// policyCacheTTL bounds how long a node may act on an old MFA policy or
// department tree after a change made on another node.
const policyCacheTTL = 10 * time.Second

// mfaCache keeps the MFA policy and the department tree, read on every
// authenticated request, off the database.
type mfaCache struct {
	mu      sync.Mutex
	at      time.Time
	policy  *parley.MFAPolicy
	parents map[parley.DepartmentID]parley.DepartmentID
}

var _ parley.MFAPolicyService = (*Service)(nil)

type mfaPolicyJSON struct {
	RequireAll  bool `json:"require_all"`
	Departments []struct {
		DepartmentID string    `json:"department_id"`
		GraceUntil   time.Time `json:"grace_until"`
	} `json:"departments"`
}

// MFAPolicy returns the current MFA policy (security admins, Z10).
func (s *Service) MFAPolicy(ctx context.Context, a *parley.Actor) (*parley.MFAPolicy, error) {
	if err := authz.Check(a, authz.PermSecurityPolicy); err != nil {
		return nil, err
	}
	return s.loadMFAPolicy(ctx)
}

// SetMFAPolicy replaces the MFA policy, audited with the new value (A2).
func (s *Service) SetMFAPolicy(ctx context.Context, a *parley.Actor, p *parley.MFAPolicy) error {
	if err := authz.Check(a, authz.PermSecurityPolicy); err != nil {
		return err
	}
	if len(p.Departments) > 1000 {
		return parley.Errorf(parley.CodeInvalid, "at most 1000 department rules")
	}
	var j mfaPolicyJSON
	j.RequireAll = p.RequireAll
	seen := map[parley.DepartmentID]bool{}
	for _, d := range p.Departments {
		if seen[d.DepartmentID] {
			return parley.Errorf(parley.CodeInvalid, "department %s listed twice", d.DepartmentID)
		}
		seen[d.DepartmentID] = true
		if _, err := s.store.DepartmentByID(ctx, d.DepartmentID); err != nil {
			if parley.IsNotFound(err) {
				return parley.Errorf(parley.CodeNotFound, "department %s not found", d.DepartmentID)
			}
			return err
		}
		j.Departments = append(j.Departments, struct {
			DepartmentID string    `json:"department_id"`
			GraceUntil   time.Time `json:"grace_until"`
		}{string(d.DepartmentID), d.GraceUntil.UTC()})
	}
	data, err := json.Marshal(j)
	if err != nil {
		return parley.Internal("auth.SetMFAPolicy", err)
	}
	if err := s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "policy.mfa",
		SourceIP: a.SourceIP, Result: parley.ResultSuccess, Reason: string(data)}); err != nil {
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable") // L5: fail closed
	}
	if err := s.store.PutSetting(ctx, settingMFAPolicy, string(data)); err != nil {
		return err
	}
	s.mfa.mu.Lock()
	s.mfa.at = time.Time{} // this node sees its own change at once
	s.mfa.mu.Unlock()
	return nil
}

func (s *Service) loadMFAPolicy(ctx context.Context) (*parley.MFAPolicy, error) {
	v, err := s.store.GetSetting(ctx, settingMFAPolicy)
	if parley.IsNotFound(err) {
		return &parley.MFAPolicy{}, nil
	}
	if err != nil {
		return nil, err
	}
	var j mfaPolicyJSON
	if err := json.Unmarshal([]byte(v), &j); err != nil {
		return nil, parley.Internal("auth.loadMFAPolicy", err)
	}
	p := &parley.MFAPolicy{RequireAll: j.RequireAll}
	for _, d := range j.Departments {
		p.Departments = append(p.Departments, parley.DepartmentMFA{DepartmentID: parley.DepartmentID(d.DepartmentID), GraceUntil: d.GraceUntil})
	}
	return p, nil
}

// mfaRequired says whether u must have a second factor now: for an
// administrative role always (A2), otherwise as the MFA policy says for
// u's department or an ancestor, once its grace period is over.
func (s *Service) mfaRequired(ctx context.Context, u *parley.User) (bool, error) {
	if authz.RequiresMFA(u.Roles) {
		return true, nil
	}
	s.mfa.mu.Lock()
	defer s.mfa.mu.Unlock()
	now := s.now()
	if s.mfa.policy == nil || now.Sub(s.mfa.at) > policyCacheTTL || now.Before(s.mfa.at) {
		p, err := s.loadMFAPolicy(ctx)
		if err != nil {
			return false, err
		}
		deps, err := s.store.ListDepartments(ctx)
		if err != nil {
			return false, err
		}
		s.mfa.parents = make(map[parley.DepartmentID]parley.DepartmentID, len(deps))
		for _, d := range deps {
			s.mfa.parents[d.ID] = d.ParentID
		}
		s.mfa.policy, s.mfa.at = p, now
	}
	if s.mfa.policy.RequireAll {
		return true, nil
	}
	for dep, hops := u.DepartmentID, 0; dep != "" && hops < 64; dep, hops = s.mfa.parents[dep], hops+1 {
		for _, r := range s.mfa.policy.Departments {
			if r.DepartmentID == dep && !now.Before(r.GraceUntil) {
				return true, nil
			}
		}
	}
	return false, nil
}
