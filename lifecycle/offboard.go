package lifecycle

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
)

// Offboard removes a leaver at once (Z8). The store applies every removal
// in one transaction (sqldb OffboardUser), so an account is never left
// half-offboarded; the moment it commits, the disabled status refuses the
// leaver's sessions and tokens on every node. Then the sessions are deleted
// and every WebSocket of the leaver closes — sessions and API tokens alike —
// before this returns.
//
// The "user" grant is kept on purpose: it is what every account holds, so a
// reactivated account starts with exactly the rights of a new one and
// nothing more; the access review reports disabled accounts that still
// hold more (there are none after an offboarding).
//
// The remaining members of the leaver's conversations get no WebSocket
// event: the protocol has no membership frame yet (docs/websocket.md);
// they see the change in the member list of GET /conversations.
func (s *Service) Offboard(ctx context.Context, a *parley.Actor, id, successor parley.UserID, reason string) (*parley.OffboardResult, error) {
	const action = "user.offboard"
	u, err := s.target(ctx, a, action, id)
	if err != nil {
		return nil, err
	}
	if reason, err = cleanReason(reason); err != nil {
		return nil, err
	}
	if successor != "" {
		if successor == id {
			return nil, parley.Errorf(parley.CodeInvalid, "successor_id must be another user")
		}
		su, err := s.store.UserByID(ctx, successor)
		if parley.IsNotFound(err) || (err == nil && su.Status != parley.UserActive) {
			return nil, parley.Errorf(parley.CodeNotFound, "successor not found")
		}
		if err != nil {
			return nil, err
		}
	}
	if u.Status != parley.UserActive {
		return nil, s.deny(ctx, a, action, string(id), parley.Errorf(parley.CodeConflict, "the account is already %s", u.Status))
	}
	note := "username=" + u.Username
	if successor != "" {
		note += " successor=" + string(successor)
	}
	if reason != "" {
		note += " reason=" + reason
	}
	if err := s.record(ctx, a, action, string(id), parley.ResultSuccess, note); err != nil {
		return nil, err
	}
	res, err := s.store.OffboardUser(ctx, parley.Offboarding{UserID: id, Successor: successor, At: s.now(),
		By: a.UserID, Reason: reason})
	if err != nil {
		if parley.ErrorCode(err) == parley.CodeConflict { // another administrator was quicker
			return nil, s.deny(ctx, a, action, string(id), parley.Errorf(parley.CodeConflict, "the account is already disabled"))
		}
		return nil, err
	}
	if err := s.deps.EndUserSessions(ctx, id); err != nil {
		// The account is disabled: its sessions are refused already and
		// their WebSockets close at the next revalidation.
		_ = s.record(ctx, a, "user.offboard_sessions", string(id), parley.ResultFailure, "sessions not deleted: "+parley.ErrorMessage(err))
		return nil, err
	}
	s.endSessions(res.TokenIDs)
	for _, e := range res.Conversations {
		switch {
		case s.deps.MemberRemoved != nil:
			s.deps.MemberRemoved(ctx, e.ConversationID, id)
		case s.deps.ConversationChanged != nil:
			s.deps.ConversationChanged(e.ConversationID)
		}
	}
	s.recordSteps(ctx, a, id, res)
	return res, nil
}

func (s *Service) endSessions(ids []string) {
	if s.deps.EndSessions != nil && len(ids) > 0 {
		s.deps.EndSessions(ids)
	}
}

// recordSteps writes one record per class of what the offboarding removed
// (the main record was written before the change), and one per
// conversation whose ownership moved. A failure here is logged: the change
// is done and its main record exists.
func (s *Service) recordSteps(ctx context.Context, a *parley.Actor, id parley.UserID, res *parley.OffboardResult) {
	target := string(id)
	_ = s.record(ctx, a, "user.offboard_sessions", target, parley.ResultSuccess,
		fmt.Sprintf("sessions ended, WebSockets closed; service tokens revoked: %d", len(res.TokenIDs)))
	roles := "none beyond user"
	if len(res.Roles) > 0 {
		names := make([]string, len(res.Roles))
		for i, g := range res.Roles {
			names[i] = string(g.Role)
			if g.Scope != "" {
				names[i] += "@" + string(g.Scope)
			}
		}
		roles = strings.Join(names, ",")
	}
	_ = s.record(ctx, a, "user.offboard_roles", target, parley.ResultSuccess, "revoked: "+roles+"; user kept")
	_ = s.record(ctx, a, "user.offboard_credentials", target, parley.ResultSuccess,
		fmt.Sprintf("passkeys=%d totp=%t recovery_codes=%d code_addresses=%d", res.Passkeys, res.TOTP, res.RecoveryCodes, res.Contacts))
	owned := 0
	for _, e := range res.Conversations {
		if !e.WasOwner {
			continue
		}
		owned++
		why := "owner " + target + " → " + string(e.NewOwner)
		if e.NewOwner == "" {
			why = "owner " + target + " left; no member remains, kept read-only"
		}
		_ = s.record(ctx, a, "conversation.owner_transfer", string(e.ConversationID), parley.ResultSuccess, why)
	}
	_ = s.record(ctx, a, "user.offboard_conversations", target, parley.ResultSuccess,
		fmt.Sprintf("removed from %d conversations (messages kept); ownership of %d handed on", len(res.Conversations), owned))
}

// Reactivate makes a disabled account active again (Z8), explicitly: with a
// new password the administrator sets (the policy applies), which the user
// must replace at the next login; with no roles beyond "user" and no
// conversations (offboarding removed them, nothing restores them); and
// with no second factor, so the usual MFA policy demands enrolment. The
// inactivity rule starts afresh, and an end date already passed is
// cleared (set a new one with SetEndDate).
func (s *Service) Reactivate(ctx context.Context, a *parley.Actor, id parley.UserID, password, reason string) (*parley.User, error) {
	const action = "user.reactivate"
	u, err := s.target(ctx, a, action, id)
	if err != nil {
		return nil, err
	}
	if reason, err = cleanReason(reason); err != nil {
		return nil, err
	}
	if u.Status == parley.UserActive {
		return nil, s.deny(ctx, a, action, string(id), parley.Errorf(parley.CodeConflict, "the account is active"))
	}
	hash, err := s.deps.PasswordHash(ctx, u, password)
	if err != nil {
		_ = s.record(ctx, a, action, string(id), parley.ResultFailure, parley.ErrorMessage(err))
		return nil, err
	}
	note := "username=" + u.Username + "; password set by administrator, to be changed at next login"
	if reason != "" {
		note += " reason=" + reason
	}
	if err := s.record(ctx, a, action, string(id), parley.ResultSuccess, note); err != nil {
		return nil, err
	}
	if err := s.store.ReactivateUser(ctx, id, hash, s.now(), parley.MaxPasswordHistory); err != nil {
		if parley.ErrorCode(err) == parley.CodeConflict {
			return nil, parley.Errorf(parley.CodeConflict, "the account is active")
		}
		return nil, err
	}
	return s.store.UserByID(ctx, id)
}
