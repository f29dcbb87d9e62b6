package access

import (
	"context"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// settingTwoPerson holds "true" when administrator-role grants need a
// second administrator (Z9 "beyond"). Off by default: a deployment with a
// single security_admin could otherwise grant nothing.
const settingTwoPerson = "access.two_person"

func (s *Service) twoPerson(ctx context.Context) (bool, error) {
	v, err := s.store.GetSetting(ctx, settingTwoPerson)
	if parley.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		// Changed behind the server's back: fail closed (D7).
		return true, nil
	}
	return on, nil
}

// TwoPerson reports whether the two-person rule is on.
func (s *Service) TwoPerson(ctx context.Context, a *parley.Actor) (bool, error) {
	if err := authz.Check(a, authz.PermSecurityPolicy); err != nil {
		return false, err
	}
	return s.twoPerson(ctx)
}

// SetTwoPerson switches the two-person rule (security policy, Z10).
func (s *Service) SetTwoPerson(ctx context.Context, a *parley.Actor, on bool) error {
	if err := authz.Check(a, authz.PermSecurityPolicy); err != nil {
		return err
	}
	old, err := s.twoPerson(ctx)
	if err != nil {
		return err
	}
	if err := s.record(ctx, a, "policy.roles", "two_person", parley.ResultSuccess,
		"two_person "+strconv.FormatBool(old)+" -> "+strconv.FormatBool(on)); err != nil {
		return err
	}
	return s.store.PutSetting(ctx, settingTwoPerson, strconv.FormatBool(on))
}
