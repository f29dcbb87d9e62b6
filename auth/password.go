package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/auth/breached"
	"github.com/parleyhq/parley/authz"
)

// The password feature (A3): the policy as data with its audited admin
// API, the password change with history, and the admin unlock of a
// lockout (A9). Login-time enforcement (lockout, expiry) is in login.go and
// lockout.go; the rules a new password must meet are in policy.go.

const settingPasswordPolicy = "password_policy"

// passwordPolicyTTL bounds how long a node may act on an old password
// policy after a change made on another node.
const passwordPolicyTTL = 10 * time.Second

// passwordPolicyCache keeps the policy, read on every login and every
// authenticated request, off the database. A change on this node is seen
// at once; one made on another node within passwordPolicyTTL (M7).
type passwordPolicyCache struct {
	mu sync.Mutex
	at time.Time
	p  *parley.PasswordPolicy
}

var _ parley.PasswordService = (*Service)(nil)

// passwordPolicy returns the policy in force: the stored one, or the
// checklist preset if none was ever set (A3 default). A stored policy that
// does not parse or validate was changed behind the server's back (D7):
// that fails closed.
func (s *Service) passwordPolicy(ctx context.Context) (parley.PasswordPolicy, error) {
	c := &s.pwPolicy
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.now()
	if c.p != nil && now.Sub(c.at) <= passwordPolicyTTL && !now.Before(c.at) {
		return *c.p, nil
	}
	p := parley.DefaultPasswordPolicy()
	v, err := s.store.GetSetting(ctx, settingPasswordPolicy)
	switch {
	case parley.IsNotFound(err):
	case err != nil:
		return p, err
	default:
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		p = parley.PasswordPolicy{}
		if err := dec.Decode(&p); err != nil {
			return p, parley.Internal("auth.passwordPolicy", fmt.Errorf("stored password policy: %w", err))
		}
		if err := p.Validate(); err != nil {
			return p, parley.Internal("auth.passwordPolicy", fmt.Errorf("stored password policy: %w", err))
		}
	}
	c.p, c.at = &p, now
	return p, nil
}

// BreachedListSize is the size of the offline common/breached list.
func (s *Service) BreachedListSize() int { return breached.Len() }

// PasswordPolicy returns the policy in force (security admins, Z10).
func (s *Service) PasswordPolicy(ctx context.Context, a *parley.Actor) (*parley.PasswordPolicy, error) {
	if err := authz.Check(a, authz.PermSecurityPolicy); err != nil {
		return nil, err
	}
	p, err := s.passwordPolicy(ctx)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// SetPasswordPolicy validates and stores a new policy. It is audited with
// every changed field, old → new, before it takes effect; if the audit
// trail cannot be written the change is refused (L5).
func (s *Service) SetPasswordPolicy(ctx context.Context, a *parley.Actor, p *parley.PasswordPolicy) error {
	if err := authz.Check(a, authz.PermSecurityPolicy); err != nil {
		return err
	}
	if err := s.RequireStepUp(a); err != nil { // the router demands it too (A6)
		return err
	}
	if err := p.Validate(); err != nil {
		_ = s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "policy.password",
			SourceIP: a.SourceIP, Result: parley.ResultFailure, Reason: parley.ErrorMessage(err)})
		return err
	}
	old, err := s.passwordPolicy(ctx)
	if err != nil {
		return err
	}
	data, err := json.Marshal(p)
	if err != nil {
		return parley.Internal("auth.SetPasswordPolicy", err)
	}
	if err := s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "policy.password",
		SourceIP: a.SourceIP, Result: parley.ResultSuccess, Reason: policyDiff(old, *p)}); err != nil {
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := s.store.PutSetting(ctx, settingPasswordPolicy, string(data)); err != nil {
		return err
	}
	s.pwPolicy.mu.Lock()
	s.pwPolicy.p = nil // this node sees its own change at once
	s.pwPolicy.mu.Unlock()
	return nil
}

// policyDiff summarises a policy change for the audit trail: each changed
// field as name old→new, or "no change".
func policyDiff(old, new parley.PasswordPolicy) string {
	var a, b map[string]any
	oj, _ := json.Marshal(old)
	nj, _ := json.Marshal(new)
	_ = json.Unmarshal(oj, &a)
	_ = json.Unmarshal(nj, &b)
	var parts []string
	for _, k := range []string{"profile", "min_length", "min_length_with_mfa", "require_classes", "history_count",
		"max_age_days", "lockout_threshold", "lockout_minutes", "mfa_for_all"} {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			parts = append(parts, fmt.Sprintf("%s %v→%v", k, a[k], b[k]))
		}
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

// passwordExpired reports whether u's password is older than the policy
// allows at now (A3: 90 days by default, at most 180 under checklist and
// mlps3; never under nist).
func passwordExpired(p parley.PasswordPolicy, u *parley.User, now time.Time) bool {
	return p.MaxAgeDays > 0 && !now.Before(u.PasswordChangedAt.Add(p.MaxAge()))
}

// ChangePassword replaces the caller's password (A3, A5). The router
// demands a fresh second factor (A6) except from a session whose password
// expired: that session was opened by the password (and second factor)
// moments ago and may do nothing else, so re-typing the current password
// is the proof. Every other session of the user is revoked (A5).
func (s *Service) ChangePassword(ctx context.Context, a *parley.Actor, current, next string) error {
	if err := authz.Check(a, authz.PermCredentials); err != nil {
		return err
	}
	if !a.PasswordChangeRequired {
		if err := s.RequireStepUp(a); err != nil {
			return err
		}
	}
	key := "password:" + string(a.UserID)
	if err := s.throttle.allow(a.SourceIP, key); err != nil {
		return err
	}
	audit := func(result, reason string) error {
		return s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.password_change",
			Target: string(a.UserID), SourceIP: a.SourceIP, Result: result, Reason: reason})
	}
	u, err := s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return err
	}
	ok := false
	if len(current) <= parley.MaxPasswordBytes {
		if ok, _, err = s.hasher.Verify(ctx, u.PasswordHash, current); err != nil {
			return parley.Internal("auth.ChangePassword", err)
		}
	} else {
		s.hasher.DummyVerify(ctx, "")
	}
	if !ok {
		s.throttle.failed(a.SourceIP, key)
		_ = audit(parley.ResultFailure, "wrong current password")
		return parley.Errorf(parley.CodeForbidden, "current_password is wrong")
	}
	s.throttle.succeeded(key)
	pol, err := s.passwordPolicy(ctx)
	if err != nil {
		return err
	}
	if err := s.checkNewPassword(ctx, pol, next, u.Username, u.DisplayName, u.MFAEnrolled); err != nil {
		_ = audit(parley.ResultFailure, parley.ErrorMessage(err))
		return err
	}
	if err := s.checkHistory(ctx, pol, u, next); err != nil {
		_ = audit(parley.ResultFailure, parley.ErrorMessage(err))
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return parley.Internal("auth.ChangePassword", err)
	}
	if err := audit(parley.ResultSuccess, "other sessions revoked"); err != nil {
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable") // L5: fail closed
	}
	if err := s.store.ChangePassword(ctx, u.ID, hash, s.now(), parley.MaxPasswordHistory); err != nil {
		return err
	}
	ids, err := s.store.DeleteUserSessions(ctx, u.ID, a.SessionID)
	if err != nil {
		return err
	}
	s.endSessions(ids...)
	return nil
}

// checkHistory refuses the current password and, under a history rule, any
// of the last HistoryCount passwords (the current one included: A3 "may
// not reuse the last 5"). Each comparison is an argon2id verify against a
// stored hash; the history is bounded (parley.MaxPasswordHistory).
func (s *Service) checkHistory(ctx context.Context, p parley.PasswordPolicy, u *parley.User, next string) error {
	hashes := []string{u.PasswordHash}
	if p.HistoryCount > 1 {
		old, err := s.store.PasswordHistory(ctx, u.ID, p.HistoryCount-1)
		if err != nil {
			return err
		}
		hashes = append(hashes, old...)
	}
	for i, h := range hashes {
		ok, _, err := s.hasher.Verify(ctx, h, next)
		if err != nil {
			return parley.Internal("auth.checkHistory", err)
		}
		if !ok {
			continue
		}
		if i == 0 || p.HistoryCount <= 1 {
			return parley.Errorf(parley.CodeInvalid, "new_password must differ from the current password")
		}
		return parley.Errorf(parley.CodeInvalid, "new_password must differ from your last %d passwords", p.HistoryCount)
	}
	return nil
}

// UnlockUser lifts a lockout before it ends (A9): an administrator's act,
// with step-up (the router demands it; checked here too) and audited
// before it takes effect. The user is still told of the lock at their next
// login. An unknown user is not_found.
func (s *Service) UnlockUser(ctx context.Context, a *parley.Actor, id parley.UserID) error {
	if err := authz.Check(a, authz.PermUsersUnlock); err != nil {
		return err
	}
	if err := s.RequireStepUp(a); err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		if parley.IsNotFound(err) {
			_ = s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.unlock",
				Target: truncate(string(id), 64), SourceIP: a.SourceIP, Result: parley.ResultFailure, Reason: "no such user"})
			return parley.Errorf(parley.CodeNotFound, "user not found")
		}
		return err
	}
	// A helpdesk role scoped to a department unlocks only there (Z6).
	if err := authz.CheckOver(ctx, a, authz.PermUsersUnlock, u.DepartmentID, s.store.ListDepartments); err != nil {
		if parley.IsNotFound(err) {
			return parley.Errorf(parley.CodeNotFound, "user not found")
		}
		return err
	}
	l, err := s.store.LoginLock(ctx, u.Username)
	if err != nil {
		return err
	}
	reason := "was not locked"
	if l.Locked(s.now()) {
		reason = "locked until " + l.LockedUntil.UTC().Format(time.RFC3339)
	}
	if err := s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.unlock",
		Target: string(u.ID), SourceIP: a.SourceIP, Result: parley.ResultSuccess, Reason: reason}); err != nil {
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	_, err = s.store.UnlockLogin(ctx, u.Username, s.now())
	return err
}
