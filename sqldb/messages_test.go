package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

func pending(conv parley.ConversationID, sender parley.UserID, clientID, body string) *parley.PendingMessage {
	return &parley.PendingMessage{
		Msg: parley.Message{
			ID: parley.NewMessageID(), ConversationID: conv, SenderID: sender,
			ClientMsgID: clientID, SentAt: t0,
		},
		Body: []byte(body),
	}
}

// copySeal "seals" by copying with a marker, and checks that the store set
// the seq before sealing (the AAD binds it).
func copySeal(m *parley.Message, body []byte) error {
	if m.Seq <= 0 {
		return errors.New("seal called without a seq")
	}
	m.Sealed = append([]byte(fmt.Sprintf("sealed(%d):", m.Seq)), body...)
	m.KeyEpoch = 1
	return nil
}

func TestAppendMessages(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a, b := createUser(t, db, "a"), createUser(t, db, "b")
		c1 := createConversation(t, db, t0, a.ID, b.ID)
		c2 := createConversation(t, db, t0, a.ID, b.ID)
		gone := parley.NewConversationID()

		batch1 := []*parley.PendingMessage{
			pending(c1.ID, a.ID, "a-1", "one"),
			pending(c2.ID, a.ID, "a-1", "other conversation, same client id"),
			pending(c1.ID, b.ID, "a-1", "other sender, same client id"),
			pending(gone, a.ID, "x-1", "to a missing conversation"),
			pending(c1.ID, a.ID, "a-1", "retry inside the batch"),
			pending(c1.ID, a.ID, "", "no client id"),
			pending(c1.ID, a.ID, "", "no client id"),
		}
		must(t, db.AppendMessages(ctx, batch1, copySeal))
		for i, want := range []struct {
			seq int64
			dup bool
			err parley.Code
		}{
			{1, false, ""}, {1, false, ""}, {2, false, ""}, {0, false, parley.CodeNotFound},
			{1, true, ""}, {3, false, ""}, {4, false, ""},
		} {
			p := batch1[i]
			if p.Msg.Seq != want.seq || p.Duplicate != want.dup || parley.ErrorCode(p.Err) != want.err {
				t.Errorf("item %d: seq %d dup %v err %v; want seq %d dup %v err %q", i, p.Msg.Seq, p.Duplicate, p.Err, want.seq, want.dup, want.err)
			}
		}
		if batch1[4].Msg.ID != batch1[0].Msg.ID || string(batch1[4].Msg.Sealed) != "sealed(1):one" {
			t.Errorf("in-batch duplicate did not get the original: %+v", batch1[4].Msg)
		}

		// A later batch continues the sequence, and a retry of an earlier
		// message returns the stored original.
		retry := pending(c1.ID, b.ID, "a-1", "retried body")
		retry.Msg.SentAt = t0.Add(time.Hour)
		batch2 := []*parley.PendingMessage{
			pending(c1.ID, b.ID, "b-2", "five"),
			retry,
			pending(c2.ID, b.ID, "b-1", "two"),
		}
		must(t, db.AppendMessages(ctx, batch2, copySeal))
		if batch2[0].Msg.Seq != 5 || batch2[2].Msg.Seq != 2 {
			t.Errorf("seqs %d, %d; want 5, 2", batch2[0].Msg.Seq, batch2[2].Msg.Seq)
		}
		orig := batch1[2].Msg
		if !retry.Duplicate || retry.Msg.ID != orig.ID || retry.Msg.Seq != 2 || !retry.Msg.SentAt.Equal(t0) ||
			string(retry.Msg.Sealed) != string(orig.Sealed) || retry.Msg.KeyEpoch != 1 {
			t.Errorf("retry across batches: %+v, want the original %+v", retry.Msg, orig)
		}

		msgs, err := db.MessagesAfter(ctx, c1.ID, 0, 100)
		must(t, err)
		if len(msgs) != 5 {
			t.Fatalf("c1 has %d messages, want 5", len(msgs))
		}
		for i, m := range msgs {
			if m.Seq != int64(i+1) || m.Body != nil || m.ConversationID != c1.ID || m.SentAt.Location() != time.UTC {
				t.Errorf("message %d: %+v", i, m)
			}
		}
		if string(msgs[0].Sealed) != "sealed(1):one" || msgs[0].ClientMsgID != "a-1" || msgs[3].ClientMsgID != "" {
			t.Errorf("stored: %+v / %+v", msgs[0], msgs[3])
		}
		conv, _ := db.ConversationByID(ctx, c1.ID)
		if conv.LastSeq != 5 {
			t.Errorf("LastSeq = %d, want 5", conv.LastSeq)
		}
		// Empty batch is fine.
		must(t, db.AppendMessages(ctx, nil, copySeal))
	})
}

func TestAppendMessagesSealFailure(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a := createUser(t, db, "a")
		c := createConversation(t, db, t0, a.ID)
		unavailable := &parley.Error{Code: parley.CodeUnavailable, Message: "key unavailable"}
		seal := func(m *parley.Message, body []byte) error {
			switch string(body) {
			case "fail":
				return unavailable
			case "empty":
				return nil // seals nothing: must not be stored
			}
			return copySeal(m, body)
		}
		batch := []*parley.PendingMessage{
			pending(c.ID, a.ID, "1", "ok"),
			pending(c.ID, a.ID, "2", "fail"),
			pending(c.ID, a.ID, "3", "empty"),
			pending(c.ID, a.ID, "4", "ok"),
		}
		must(t, db.AppendMessages(ctx, batch, seal))
		wantCode(t, batch[1].Err, parley.CodeUnavailable)
		wantCode(t, batch[2].Err, parley.CodeInternal)
		if batch[0].Msg.Seq != 1 || batch[3].Msg.Seq != 2 {
			t.Errorf("seqs %d, %d: a failed seal must not leave a gap", batch[0].Msg.Seq, batch[3].Msg.Seq)
		}
		// The failed client IDs were not stored: a retry is a new message.
		again := []*parley.PendingMessage{pending(c.ID, a.ID, "2", "ok now")}
		must(t, db.AppendMessages(ctx, again, seal))
		if again[0].Duplicate || again[0].Msg.Seq != 3 {
			t.Errorf("retry after failed seal: dup %v seq %d", again[0].Duplicate, again[0].Msg.Seq)
		}
	})
}

func TestAppendMessagesLargeBatch(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a := createUser(t, db, "a")
		var convs []*parley.Conversation
		for range 5 {
			convs = append(convs, createConversation(t, db, t0, a.ID))
		}
		// 301 messages: every multi-row INSERT size and several idempotency
		// lookups; then the same client IDs again, all duplicates.
		mk := func(prefix string) []*parley.PendingMessage {
			var batch []*parley.PendingMessage
			for i := range 301 {
				batch = append(batch, pending(convs[i%5].ID, a.ID, fmt.Sprint(i), prefix+fmt.Sprint(i)))
			}
			return batch
		}
		first := mk("first ")
		must(t, db.AppendMessages(ctx, first, copySeal))
		second := mk("second ")
		must(t, db.AppendMessages(ctx, second, copySeal))
		for i := range first {
			if first[i].Duplicate || first[i].Err != nil || first[i].Msg.Seq != int64(i/5+1) {
				t.Fatalf("first[%d]: %+v", i, first[i])
			}
			if !second[i].Duplicate || second[i].Msg.ID != first[i].Msg.ID || second[i].Msg.Seq != first[i].Msg.Seq {
				t.Fatalf("second[%d] is not the original: %+v", i, second[i].Msg)
			}
		}
		for _, c := range convs {
			msgs, err := db.MessagesAfter(ctx, c.ID, 0, 1000)
			must(t, err)
			if len(msgs) != 61 && len(msgs) != 60 {
				t.Errorf("%s: %d messages", c.ID, len(msgs))
			}
		}
	})
}

func TestAppendMessagesConcurrent(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a, b := createUser(t, db, "a"), createUser(t, db, "b")
		c1 := createConversation(t, db, t0, a.ID, b.ID)
		c2 := createConversation(t, db, t0, a.ID, b.ID)
		const writers, batches, size = 6, 5, 10
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range batches {
					var batch []*parley.PendingMessage
					for j := range size {
						conv := c1.ID
						if j%3 == 0 {
							conv = c2.ID
						}
						batch = append(batch, pending(conv, a.ID, fmt.Sprintf("%d-%d-%d", w, i, j), "x"))
					}
					if err := db.AppendMessages(ctx, batch, copySeal); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		total := 0
		for _, c := range []parley.ConversationID{c1.ID, c2.ID} {
			msgs, err := db.MessagesAfter(ctx, c, 0, 10000)
			must(t, err)
			for i, m := range msgs {
				if m.Seq != int64(i+1) {
					t.Fatalf("%s: message %d has seq %d: gap or duplicate", c, i, m.Seq)
				}
			}
			conv, _ := db.ConversationByID(ctx, c)
			if conv.LastSeq != int64(len(msgs)) {
				t.Errorf("LastSeq %d, %d messages", conv.LastSeq, len(msgs))
			}
			total += len(msgs)
		}
		if total != writers*batches*size {
			t.Errorf("%d messages stored, want %d", total, writers*batches*size)
		}
	})
}

func TestMessagePages(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a := createUser(t, db, "a")
		c := createConversation(t, db, t0, a.ID)
		var batch []*parley.PendingMessage
		for i := range 10 {
			batch = append(batch, pending(c.ID, a.ID, fmt.Sprint(i), "m"))
		}
		must(t, db.AppendMessages(ctx, batch, copySeal))
		seqs := func(ms []*parley.Message) (out []int64) {
			for _, m := range ms {
				out = append(out, m.Seq)
			}
			return out
		}
		for _, tc := range []struct {
			name  string
			get   func() ([]*parley.Message, error)
			wants string
		}{
			{"after 0, 3", func() ([]*parley.Message, error) { return db.MessagesAfter(ctx, c.ID, 0, 3) }, "[1 2 3]"},
			{"after 8, 5", func() ([]*parley.Message, error) { return db.MessagesAfter(ctx, c.ID, 8, 5) }, "[9 10]"},
			{"after 10", func() ([]*parley.Message, error) { return db.MessagesAfter(ctx, c.ID, 10, 5) }, "[]"},
			{"after, limit 0", func() ([]*parley.Message, error) { return db.MessagesAfter(ctx, c.ID, 0, 0) }, "[]"},
			{"before 11, 3", func() ([]*parley.Message, error) { return db.MessagesBefore(ctx, c.ID, 11, 3) }, "[8 9 10]"},
			{"before 3, 5", func() ([]*parley.Message, error) { return db.MessagesBefore(ctx, c.ID, 3, 5) }, "[1 2]"},
			{"before 1", func() ([]*parley.Message, error) { return db.MessagesBefore(ctx, c.ID, 1, 5) }, "[]"},
			{"other conversation", func() ([]*parley.Message, error) { return db.MessagesAfter(ctx, parley.NewConversationID(), 0, 5) }, "[]"},
		} {
			ms, err := tc.get()
			must(t, err)
			if got := fmt.Sprint(seqs(ms)); got != tc.wants {
				t.Errorf("%s: %s, want %s", tc.name, got, tc.wants)
			}
		}
	})
}
