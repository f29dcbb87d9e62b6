package supervision

import (
	"context"
	"encoding/json"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// settingPolicy names the stored supervision policy: security policy is
// data in the database, changed through the audited API (DESIGN.md §7).
const settingPolicy = "supervision_policy"

type policyJSON struct {
	RequireApproval bool `json:"require_approval"`
}

// SupervisionPolicy returns the supervision policy (security admins, Z10).
func (s *Service) SupervisionPolicy(ctx context.Context, a *parley.Actor) (*parley.SupervisionPolicy, error) {
	if err := authz.Check(a, authz.PermSecurityPolicy); err != nil {
		return nil, err
	}
	return s.loadPolicy(ctx)
}

// SetSupervisionPolicy replaces the supervision policy, audited with the
// new value. It applies to requests made from then on; grants already
// active or pending keep the state they are in.
func (s *Service) SetSupervisionPolicy(ctx context.Context, a *parley.Actor, p *parley.SupervisionPolicy) error {
	if err := authz.Check(a, authz.PermSecurityPolicy); err != nil {
		return err
	}
	data, err := json.Marshal(policyJSON{RequireApproval: p.RequireApproval})
	if err != nil {
		return parley.Internal("supervision.SetSupervisionPolicy", err)
	}
	if err := s.record(ctx, a, "policy.supervision", "", string(data)); err != nil {
		return err
	}
	return s.store.PutSetting(ctx, settingPolicy, string(data))
}

// loadPolicy reads the policy; unset means no approval needed (the
// default: the step-up, the stated reason and the audit record already
// stand behind every grant).
func (s *Service) loadPolicy(ctx context.Context) (*parley.SupervisionPolicy, error) {
	v, err := s.store.GetSetting(ctx, settingPolicy)
	if parley.IsNotFound(err) {
		return &parley.SupervisionPolicy{}, nil
	}
	if err != nil {
		return nil, err
	}
	var j policyJSON
	if err := json.Unmarshal([]byte(v), &j); err != nil {
		return nil, parley.Internal("supervision.loadPolicy", err)
	}
	return &parley.SupervisionPolicy{RequireApproval: j.RequireApproval}, nil
}
