package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// TestWebSocketClosesWhenPasswordExpires: a password that expires while a
// WebSocket is open limits the session to changing it (A3), so the next
// revalidation closes the connection (1008) instead of letting it read on.
func TestWebSocketClosesWhenPasswordExpires(t *testing.T) {
	cfg := httpapi.DefaultConfig()
	cfg.WSRevalidate = 50 * time.Millisecond
	s := parleytest.NewServer(t, parleytest.WithHTTPConfig(cfg))
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	created := s.Clock.Now()
	if _, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: "erin", DisplayName: "Erin", Password: parleytest.Password}); err != nil {
		t.Fatal(err)
	}
	// Ten minutes before the 90-day expiry (and before 90 days unused,
	// Z11) erin signs in and opens a WebSocket.
	s.Clock.Advance(90*24*time.Hour - 10*time.Minute - s.Clock.Now().Sub(created))
	erin := s.Login(ctx, "erin")
	ws := dial(ctx, t, erin)
	if err := ws.Sync(ctx, map[string]int64{}); err != nil {
		t.Fatal(err)
	}
	nextOfType(ctx, t, ws, "synced")
	// Eleven minutes on (within the idle timeout): the password expired.
	s.Clock.Advance(11 * time.Minute)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		if _, err := ws.Next(wctx); err != nil {
			if got := client.CloseStatus(err); got != 1008 {
				t.Fatalf("WebSocket after expiry: %v (status %d), want 1008", err, got)
			}
			break
		}
	}
	_, err := erin.Conversations(ctx)
	expectCode(t, err, "password_change_required")
}
