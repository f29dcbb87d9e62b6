package e2e

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// eachServer runs fn against a fresh server on SQLite and, when
// PARLEY_TEST_POSTGRES_DSN is set, on PostgreSQL.
func eachServer(t *testing.T, fn func(t *testing.T, s *parleytest.Server), opts ...parleytest.ServerOption) {
	t.Run("sqlite", func(t *testing.T) { fn(t, parleytest.NewServer(t, opts...)) })
	if os.Getenv(parleytest.PostgresEnv) != "" {
		t.Run("postgres", func(t *testing.T) {
			o := append([]parleytest.ServerOption{parleytest.WithDSN(parleytest.NewPostgresDSN(t))}, opts...)
			fn(t, parleytest.NewServer(t, o...))
		})
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var msgCounter atomic.Int64

func newMsgID() string { return fmt.Sprintf("cm-%d-%d", time.Now().UnixNano(), msgCounter.Add(1)) }

// expectCode fails unless err is an API error with the given code.
func expectCode(t *testing.T, err error, code string) {
	t.Helper()
	if !client.IsCode(err, code) {
		t.Fatalf("got error %v, want code %q", err, code)
	}
}

// nextOfType reads frames until one of the given type arrives, returning
// the frames skipped on the way.
func nextOfType(ctx context.Context, t *testing.T, c *client.Conn, typ string) (*wire.ServerFrame, []wire.ServerFrame) {
	t.Helper()
	var skipped []wire.ServerFrame
	for {
		f, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %q frame: %v (skipped %v)", typ, err, skipped)
		}
		if f.Type == typ {
			return f, skipped
		}
		skipped = append(skipped, *f)
	}
}

// readMessages reads n message frames, failing on anything else but typing
// and read receipts.
func readMessages(ctx context.Context, t *testing.T, c *client.Conn, n int) []wire.ServerFrame {
	t.Helper()
	var out []wire.ServerFrame
	for len(out) < n {
		f, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("reading message %d of %d: %v", len(out)+1, n, err)
		}
		switch f.Type {
		case wire.FrameMessage:
			out = append(out, *f)
		case wire.FrameTyping, wire.FrameRead:
		default:
			t.Fatalf("unexpected frame %+v while waiting for messages", f)
		}
	}
	return out
}

// dial opens a WebSocket for c and closes it at cleanup.
func dial(ctx context.Context, t *testing.T, c *client.Client) *client.Conn {
	t.Helper()
	conn, err := c.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// cohort is an admin and three users, alice, bob and carol.
type cohort struct {
	admin             *parleytest.Admin
	alice, bob, carol *parleytest.User
}

func newCohort(ctx context.Context, t *testing.T, s *parleytest.Server) *cohort {
	admin := s.SetupAdmin(ctx)
	return &cohort{admin: admin,
		alice: s.NewUser(ctx, admin, "alice"), bob: s.NewUser(ctx, admin, "bob"), carol: s.NewUser(ctx, admin, "carol")}
}
