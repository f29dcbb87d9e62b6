package chat

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// TestOpenMessageKeepsWhatTheServerMustNotRead: a recalled message reads
// as empty with no ciphertext left; an end-to-end encrypted one keeps its
// ciphertext and gets no body, for members and supervisors alike (Z3). Both
// return before any key is touched (the Service here has none).
func TestOpenMessageKeepsWhatTheServerMustNotRead(t *testing.T) {
	s := &Service{}
	e2ee := &parley.Message{Seq: 1, E2EE: true, Sealed: []byte("client ciphertext"), Body: []byte("stale")}
	if err := s.openMessage(context.Background(), e2ee); err != nil {
		t.Fatal(err)
	}
	if e2ee.Body != nil || string(e2ee.Sealed) != "client ciphertext" {
		t.Errorf("E2EE message: body %q, sealed %q", e2ee.Body, e2ee.Sealed)
	}
	recalled := &parley.Message{Seq: 2, RecalledAt: time.Now(), Sealed: []byte{}, Body: []byte("stale")}
	if err := s.openMessage(context.Background(), recalled); err != nil {
		t.Fatal(err)
	}
	if recalled.Body != nil || recalled.Sealed != nil {
		t.Errorf("recalled message: body %q, sealed %q", recalled.Body, recalled.Sealed)
	}
}

// muteStore answers ConversationMutes only, counting the reads.
type muteStore struct {
	parley.Store
	mu    sync.Mutex
	reads int
	mutes []*parley.ConversationMute
}

func (m *muteStore) ConversationMutes(_ context.Context, id parley.ConversationID, now time.Time) ([]*parley.ConversationMute, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	var out []*parley.ConversationMute
	for _, x := range m.mutes {
		if x.ConversationID == id && x.Until.After(now) {
			out = append(out, x)
		}
	}
	return out, nil
}

func (m *muteStore) MuteMember(_ context.Context, x *parley.ConversationMute) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mutes = append(m.mutes, x)
	return nil
}

// TestMuteCache: a mute made on this node applies at once; the list is
// read once per conversation per muteTTL, not per message; a mute ends on
// time.
func TestMuteCache(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	now := t0
	st := &muteStore{}
	s := &Service{store: st, now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	conv := &parley.Conversation{ID: "c_1"}
	alice, bob := parley.UserID("u_alice"), parley.UserID("u_bob")

	for range 3 {
		if err := s.checkMuted(ctx, conv, alice); err != nil {
			t.Fatal(err)
		}
	}
	if st.reads != 1 {
		t.Errorf("%d reads for three sends, want 1", st.reads)
	}
	if err := s.Mute(ctx, &parley.ConversationMute{ConversationID: conv.ID, UserID: alice, Until: t0.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	err := s.checkMuted(ctx, conv, alice)
	if parley.ErrorCode(err) != parley.CodeForbidden || !strings.Contains(parley.ErrorMessage(err), "muted until 2026-11-27T09:10:00Z in this conversation") {
		t.Fatalf("muted send: %v", err)
	}
	if err := s.checkMuted(ctx, conv, bob); err != nil {
		t.Errorf("bob: %v", err)
	}
	if st.reads != 2 {
		t.Errorf("%d reads, want 2 (one after the mute dropped the entry)", st.reads)
	}
	// A mute made on another node shows within muteTTL.
	st.mutes = append(st.mutes, &parley.ConversationMute{ConversationID: conv.ID, UserID: bob, Until: t0.Add(time.Hour)})
	now = now.Add(muteTTL + time.Second)
	if parley.ErrorCode(s.checkMuted(ctx, conv, bob)) != parley.CodeForbidden {
		t.Error("a mute from another node did not apply after muteTTL")
	}
	now = t0.Add(10 * time.Minute)
	if err := s.checkMuted(ctx, conv, alice); err != nil {
		t.Errorf("alice after her mute ended: %v", err)
	}
}

// BenchmarkCheckMuted is what the mute check adds to every send once the
// conversation's mutes are cached (the common case: nobody muted).
func BenchmarkCheckMuted(b *testing.B) {
	st := &muteStore{}
	s := &Service{store: st, now: parley.SystemClock, log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	conv := &parley.Conversation{ID: "c_1"}
	for b.Loop() {
		if err := s.checkMuted(ctx, conv, "u_alice"); err != nil {
			b.Fatal(err)
		}
	}
}
