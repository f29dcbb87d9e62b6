package auth

import (
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"golang.org/x/time/rate"
)

// throttle limits login attempts per source IP and per account (I1). Per-IP
// limits stop one client from spraying many accounts; per-account limits
// stop many clients from guessing one password. Failures cost more than
// successes: a good password drains nothing extra.
//
// It is per node, a first line in front of the account lockout (A3, A9)
// that lockout.go keeps in the database and so shares across nodes.
type throttle struct {
	now parley.Clock
	mu  sync.Mutex
	ip  map[string]*rate.Limiter
	acc map[string]*rate.Limiter
}

const (
	ipBurst      = 20
	ipEvery      = 3 * time.Second // refill: 20 a minute
	accountBurst = 10
	accountEvery = 30 * time.Second
	maxTracked   = 100_000 // bound memory under a flood of distinct keys
)

func newThrottle(now parley.Clock) *throttle {
	return &throttle{now: now, ip: map[string]*rate.Limiter{}, acc: map[string]*rate.Limiter{}}
}

func limiter(m map[string]*rate.Limiter, key string, every time.Duration, burst int) *rate.Limiter {
	l, ok := m[key]
	if !ok {
		if len(m) >= maxTracked {
			clear(m)
		}
		l = rate.NewLimiter(rate.Every(every), burst)
		m[key] = l
	}
	return l
}

// allow answers rate_limited with Retry-After if either bucket is empty.
// Checking does not consume: only failures do (failed).
func (t *throttle) allow(ip, account string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, l := range []*rate.Limiter{
		limiter(t.ip, ip, ipEvery, ipBurst),
		limiter(t.acc, account, accountEvery, accountBurst),
	} {
		if l.TokensAt(now) < 1 {
			r := l.ReserveN(now, 1)
			d := r.DelayFrom(now)
			r.CancelAt(now)
			wait = max(wait, d)
		}
	}
	if wait > 0 {
		e := parley.Errorf(parley.CodeRateLimited, "too many attempts; try again later")
		e.RetryAfter = max(wait.Round(time.Second), time.Second)
		return e
	}
	return nil
}

func (t *throttle) failed(ip, account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	limiter(t.ip, ip, ipEvery, ipBurst).AllowN(now, 1)
	limiter(t.acc, account, accountEvery, accountBurst).AllowN(now, 1)
}

// succeeded forgives an account's failures once it proves its credentials.
func (t *throttle) succeeded(account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.acc, account)
}
