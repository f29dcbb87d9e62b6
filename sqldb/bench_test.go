package sqldb_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
)

// BenchmarkAppendMessages measures the group commit (DESIGN.md §3) with
// synchronous=FULL on SQLite (and PostgreSQL when configured): one op is one
// batch, so msgs/s is the throughput one writer can sustain. Messages spread
// over 16 conversations and all carry a client_msg_id, so the idempotency
// lookup is part of the cost. Target: ≥ 30,000 msgs/s on SQLite at ≥ 256.
func BenchmarkAppendMessages(b *testing.B) {
	for _, s := range parleytest.Stores(b) {
		ctx := context.Background()
		sender := newUser("bench")
		if err := s.DB.CreateUser(ctx, sender); err != nil {
			b.Fatal(err)
		}
		var convs []parley.ConversationID
		for range 16 {
			c, k := newConversation(t0, sender.ID)
			if err := s.DB.CreateConversation(ctx, c, k); err != nil {
				b.Fatal(err)
			}
			convs = append(convs, c.ID)
		}
		seal := func(m *parley.Message, body []byte) error {
			m.Sealed, m.KeyEpoch = body, 1
			return nil
		}
		body := make([]byte, 200)
		n := 0
		for _, size := range []int{1, 64, 256, 1024} {
			b.Run(fmt.Sprintf("%s/batch=%d", s.Name, size), func(b *testing.B) {
				b.ReportAllocs()
				batch := make([]*parley.PendingMessage, size)
				for b.Loop() {
					for i := range batch {
						n++
						batch[i] = &parley.PendingMessage{
							Msg: parley.Message{
								ID: parley.NewMessageID(), ConversationID: convs[n%len(convs)], SenderID: sender.ID,
								ClientMsgID: strconv.Itoa(n), SentAt: t0,
							},
							Body: body,
						}
					}
					if err := s.DB.AppendMessages(ctx, batch, seal); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}
