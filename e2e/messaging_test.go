package e2e

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// TestDirectAndGroupConversations covers M1/M3 over REST: three users, a
// direct conversation and a group, history in order, membership enforced.
func TestDirectAndGroupConversations(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		u := newCohort(ctx, t, s)

		direct, err := u.alice.CreateConversation(ctx, "direct", []string{u.bob.UserID}, "")
		if err != nil {
			t.Fatal(err)
		}
		again, err := u.bob.CreateConversation(ctx, "direct", []string{u.alice.UserID}, "")
		if err != nil || again != direct {
			t.Fatalf("second direct conversation for the same pair = %q, %v; want %q", again, err, direct)
		}
		group, err := u.alice.CreateConversation(ctx, "group", []string{u.bob.UserID, u.carol.UserID}, "Launch")
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			sender := []*parleytest.User{u.alice, u.bob, u.carol}[i-1]
			res, err := sender.Send(ctx, group, newMsgID(), fmt.Sprintf("group message %d", i))
			if err != nil {
				t.Fatal(err)
			}
			if res.Seq != int64(i) {
				t.Fatalf("seq = %d, want %d", res.Seq, i)
			}
		}
		if _, err := u.bob.Send(ctx, direct, newMsgID(), "just us"); err != nil {
			t.Fatal(err)
		}

		msgs, err := u.carol.History(ctx, group, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 3 || msgs[0].Body != "group message 1" || msgs[2].SenderID != u.carol.UserID {
			t.Fatalf("group history = %+v", msgs)
		}
		page, err := u.carol.History(ctx, group, 1, 1)
		if err != nil || len(page) != 1 || page[0].Seq != 2 {
			t.Fatalf("after_seq=1&limit=1 = %+v, %v", page, err)
		}
		before, err := u.carol.HistoryBefore(ctx, group, 3, 10)
		if err != nil || len(before) != 2 || before[0].Seq != 1 || before[1].Seq != 2 {
			t.Fatalf("before_seq=3 = %+v, %v", before, err)
		}

		// Carol is not in the direct conversation: it does not exist for her.
		_, err = u.carol.History(ctx, direct, 0, 10)
		expectCode(t, err, "not_found")
		_, err = u.carol.Send(ctx, direct, newMsgID(), "intrusion")
		expectCode(t, err, "not_found")
		_, err = u.carol.History(ctx, "c_doesnotexist", 0, 10)
		expectCode(t, err, "not_found")

		convs, err := u.alice.Conversations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(convs) != 2 {
			t.Fatalf("alice has %d conversations, want 2", len(convs))
		}
		for _, c := range convs {
			if c.ConversationID == group && (c.LastSeq != 3 || c.Title != "Launch" || len(c.MemberIDs) != 3) {
				t.Fatalf("group listing = %+v", c)
			}
		}
		carolConvs, _ := u.carol.Conversations(ctx)
		if len(carolConvs) != 1 || carolConvs[0].ConversationID != group {
			t.Fatalf("carol sees %+v, want only the group", carolConvs)
		}

		// Read receipts.
		if err := u.bob.MarkRead(ctx, group, 2); err != nil {
			t.Fatal(err)
		}
		if err := u.bob.MarkRead(ctx, group, 1); err != nil { // never goes down
			t.Fatal(err)
		}
		marks, err := u.alice.ReadMarkers(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(marks, func(m wire.ReadMarker) bool { return m.UserID == u.bob.UserID && m.Seq == 2 }) {
			t.Fatalf("read markers = %+v", marks)
		}
		expectCode(t, u.bob.MarkRead(ctx, group, 99), "invalid")
	})
}

// TestIdempotentSend: a retry with the same client_msg_id returns the
// original message over REST and WebSocket, and history holds it once.
func TestIdempotentSend(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		u := newCohort(ctx, t, s)
		conv, err := u.alice.CreateConversation(ctx, "direct", []string{u.bob.UserID}, "")
		if err != nil {
			t.Fatal(err)
		}
		first, err := u.alice.Send(ctx, conv, "retry-1", "hello once")
		if err != nil {
			t.Fatal(err)
		}
		second, err := u.alice.Send(ctx, conv, "retry-1", "hello once")
		if err != nil {
			t.Fatal(err)
		}
		if *first != *second {
			t.Fatalf("retry = %+v, want %+v", second, first)
		}
		ws := dial(ctx, t, u.alice.Client)
		ack, _, err := ws.SendAndWaitAck(ctx, conv, "retry-1", "hello once")
		if err != nil {
			t.Fatal(err)
		}
		if ack.MessageID != first.MessageID || ack.Seq != first.Seq {
			t.Fatalf("ws retry ack = %+v, want %+v", ack, first)
		}
		// Another sender may use the same client_msg_id: it is per sender.
		other, err := u.bob.Send(ctx, conv, "retry-1", "bob's own")
		if err != nil || other.MessageID == first.MessageID {
			t.Fatalf("bob's send = %+v, %v", other, err)
		}
		msgs, _ := u.bob.History(ctx, conv, 0, 50)
		if len(msgs) != 2 {
			t.Fatalf("history has %d messages, want 2", len(msgs))
		}
	})
}

// TestWebSocketMultiDevice: a message sent on one device reaches every
// member's connected devices, the sender's other devices included (M2),
// and the sending connection gets an ack rather than an echo.
func TestWebSocketMultiDevice(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		u := newCohort(ctx, t, s)
		group, err := u.alice.CreateConversation(ctx, "group", []string{u.bob.UserID, u.carol.UserID}, "devices")
		if err != nil {
			t.Fatal(err)
		}
		alicePhone := s.Login(ctx, "alice")
		aliceDesk := dial(ctx, t, u.alice.Client)
		alicePhoneWS := dial(ctx, t, alicePhone)
		bobWS := dial(ctx, t, u.bob.Client)

		ack, others, err := aliceDesk.SendAndWaitAck(ctx, group, "dev-1", "from the desk")
		if err != nil {
			t.Fatal(err)
		}
		if ack.Type != wire.FrameAck || ack.Seq != 1 || ack.ClientMsgID != "dev-1" || len(others) != 0 {
			t.Fatalf("ack = %+v, others = %+v", ack, others)
		}
		for name, c := range map[string]*client.Conn{"alice's phone": alicePhoneWS, "bob": bobWS} {
			got := readMessages(ctx, t, c, 1)[0]
			if got.MessageID != ack.MessageID || got.Body != "from the desk" || got.SenderID != u.alice.UserID ||
				got.ConversationID != group || got.SentAt.IsZero() {
				t.Fatalf("%s got %+v", name, got)
			}
		}
		// A REST send reaches every WebSocket, the sender's included.
		res, err := u.bob.Send(ctx, group, "rest-1", "over REST")
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]*client.Conn{"alice desk": aliceDesk, "alice phone": alicePhoneWS, "bob": bobWS} {
			got := readMessages(ctx, t, c, 1)[0]
			if got.Seq != res.Seq || got.Body != "over REST" {
				t.Fatalf("%s got %+v", name, got)
			}
		}
		// Typing reaches the others, not the typist.
		if err := bobWS.Typing(ctx, group); err != nil {
			t.Fatal(err)
		}
		f, _ := nextOfType(ctx, t, aliceDesk, wire.FrameTyping)
		if f.UserID != u.bob.UserID || f.ConversationID != group {
			t.Fatalf("typing frame = %+v", f)
		}
		// A read receipt over WebSocket reaches the members.
		if err := bobWS.MarkRead(ctx, group, 2); err != nil {
			t.Fatal(err)
		}
		f, _ = nextOfType(ctx, t, alicePhoneWS, wire.FrameRead)
		if f.UserID != u.bob.UserID || f.Seq != 2 {
			t.Fatalf("read frame = %+v", f)
		}
	})
}

// TestReconnectSync: a device that was offline catches up with sync,
// receiving exactly the missed messages in order, then synced, then live
// messages without a gap or a duplicate.
func TestReconnectSync(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		u := newCohort(ctx, t, s)
		conv, err := u.alice.CreateConversation(ctx, "group", []string{u.bob.UserID}, "sync")
		if err != nil {
			t.Fatal(err)
		}
		bobWS, err := u.bob.Dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if _, err := u.alice.Send(ctx, conv, newMsgID(), fmt.Sprintf("m%d", i+1)); err != nil {
				t.Fatal(err)
			}
		}
		got := readMessages(ctx, t, bobWS, 3)
		lastSeen := got[2].Seq
		_ = bobWS.Close()

		// While bob is away, 250 messages arrive (more than one sync page).
		for i := 3; i < 253; i++ {
			if _, err := u.alice.Send(ctx, conv, newMsgID(), fmt.Sprintf("m%d", i+1)); err != nil {
				t.Fatal(err)
			}
		}
		bobWS = dial(ctx, t, u.bob.Client)
		if err := bobWS.Sync(ctx, map[string]int64{conv: lastSeen}); err != nil {
			t.Fatal(err)
		}
		// Live messages racing the sync must neither be lost nor doubled.
		aliceWS := dial(ctx, t, u.alice.Client)
		for i := 253; i < 256; i++ {
			if err := aliceWS.Send(ctx, conv, newMsgID(), fmt.Sprintf("m%d", i+1)); err != nil {
				t.Fatal(err)
			}
		}
		var seqs []int64
		synced := false
		for len(seqs) < 253 {
			f, err := bobWS.Next(ctx)
			if err != nil {
				t.Fatalf("after %d messages: %v", len(seqs), err)
			}
			switch f.Type {
			case wire.FrameMessage:
				if f.Body != fmt.Sprintf("m%d", f.Seq) {
					t.Fatalf("seq %d carries %q", f.Seq, f.Body)
				}
				seqs = append(seqs, f.Seq)
			case wire.FrameSynced:
				synced = true
			default:
				t.Fatalf("unexpected frame %+v", f)
			}
		}
		if !synced {
			if f, _ := nextOfType(ctx, t, bobWS, wire.FrameSynced); f == nil {
				t.Fatal("no synced frame")
			}
		}
		slices.Sort(seqs)
		for i, seq := range seqs {
			if seq != int64(i)+4 {
				t.Fatalf("received seqs %v…: gap or duplicate at index %d", seqs[:min(len(seqs), 10)], i)
			}
		}
	})
}
