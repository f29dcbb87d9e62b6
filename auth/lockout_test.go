package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crypt"
)

var fastArgon2 = crypt.Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// TestLockoutFollowsPolicy: the threshold and duration come from the
// policy in the database; failures during a lock neither count nor extend
// it; the right password during the lock is refused like a wrong one
// (A3, A9).
func TestLockoutFollowsPolicy(t *testing.T) {
	r := newLoginRig(t, fastArgon2)
	ctx := context.Background()
	sec := &parley.Actor{UserID: "u_sec", Username: "sec", Roles: []parley.Role{parley.RoleSecurityAdmin}, MFAAt: r.clock.Now()}
	p := parley.DefaultPasswordPolicy()
	p.LockoutThreshold, p.LockoutMinutes = 3, 2
	if err := r.svc.SetPasswordPolicy(ctx, sec, &p); err != nil {
		t.Fatal(err)
	}
	m := parley.RequestMeta{SourceIP: "192.0.2.7"}
	try := func(pw string) error {
		_, err := r.svc.Login(ctx, "known", pw, m)
		return err
	}
	for i := 0; i < 3; i++ {
		if parley.ErrorCode(try("Wrong-Password-1!")) != parley.CodeUnauthenticated {
			t.Fatal("wrong password accepted")
		}
	}
	r.clock.Advance(time.Minute)
	for i := 0; i < 3; i++ { // during the lock: not counted, not extending
		_ = try("Wrong-Password-1!")
	}
	if err := try(benchPassword); parley.ErrorCode(err) != parley.CodeUnauthenticated {
		t.Fatalf("right password during the lock: %v", err)
	}
	r.clock.Advance(time.Minute) // 2 minutes after the lock began
	res, err := r.svc.Login(ctx, "known", benchPassword, m)
	if err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if len(res.Notices) != 1 || res.Notices[0] != parley.NoticeAccountWasLocked {
		t.Fatalf("notices = %v", res.Notices)
	}
	// Without step-up the policy cannot be changed (A6).
	sec.MFAAt = r.clock.Now().Add(-time.Hour)
	if err := r.svc.SetPasswordPolicy(ctx, sec, &p); parley.ErrorCode(err) != parley.CodeStepUpRequired {
		t.Fatalf("policy change without step-up: %v", err)
	}
}
