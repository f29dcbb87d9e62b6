package e2e

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// TestLockoutSparesKnownSource: five failures from an attacker's address
// lock the account everywhere (A3) — except against the right password
// from an address where the owner recently completed a login, so knowing a
// name is not enough to lock its owner out (A9).
func TestLockoutSparesKnownSource(t *testing.T) {
	s := parleytest.NewServer(t, parleytest.WithTrustedProxies(netip.MustParsePrefix("127.0.0.1/32")))
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	if _, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "vic", DisplayName: "Vic", Password: parleytest.Password}); err != nil {
		t.Fatal(err)
	}
	r := newRaw(t, s, "")
	login := func(from, password string) (int, string) {
		body, _ := json.Marshal(wire.LoginRequest{Username: "vic", Password: password})
		status, eb, _ := r.do("POST", "/api/v1/auth/login", body, map[string]string{"X-Forwarded-For": from})
		return status, eb.Error.Code
	}
	const office, attacker, elsewhere = "198.51.100.7", "203.0.113.9", "192.0.2.1"
	if status, _ := login(office, parleytest.Password); status != 200 {
		t.Fatalf("first login: %d", status)
	}
	for i := 0; i < 5; i++ {
		if status, code := login(attacker, "Wrong-Guess-123!"); status != 401 || code != "unauthenticated" {
			t.Fatalf("guess %d: %d %s", i+1, status, code)
		}
	}
	if status, _ := login(attacker, parleytest.Password); status != 401 {
		t.Fatalf("locked account opened to the right password from the attacker's address: %d", status)
	}
	if status, _ := login(elsewhere, parleytest.Password); status != 401 {
		t.Fatalf("locked account opened from an unknown address: %d", status)
	}
	body, _ := json.Marshal(wire.LoginRequest{Username: "vic", Password: parleytest.Password})
	req := newRaw(t, s, "")
	status, _, _ := req.do("POST", "/api/v1/auth/login", body, map[string]string{"X-Forwarded-For": office})
	if status != 200 {
		t.Fatalf("owner at the known address: %d", status)
	}
	if status, _ := login(attacker, parleytest.Password); status != 401 {
		t.Fatalf("the owner's login lifted the lock for everyone: %d", status)
	}
}
