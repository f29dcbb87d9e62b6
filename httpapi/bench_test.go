package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/chat"
	"github.com/parleyhq/parley/crypt"
	"github.com/parleyhq/parley/inmem"
	"github.com/parleyhq/parley/kms/keyring"
	"github.com/parleyhq/parley/sqldb"
	"github.com/parleyhq/parley/wire"
)

// BenchmarkSendPath measures the whole message path of DESIGN.md §3 on real
// components: strict decode and check of a WebSocket send frame, the
// permission and membership check, sealing under the conversation's data
// key, the group commit on SQLite with fsync (synchronous=FULL), publishing
// through the broker and the hub's fan-out of the pre-encoded frame to the
// connections of 10 members, then the wait for the commit that precedes
// the ack. Socket writes are not included: each member connection's queue
// is drained by a goroutine. Run with GOMAXPROCS=1 for the one-core figure:
//
//	go test ./httpapi -run XXX -bench SendPath -cpu 1
func BenchmarkSendPath(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	log := slog.New(slog.DiscardHandler)
	db, err := sqldb.Open(ctx, "sqlite:"+filepath.Join(dir, "parley.db"), log)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	kr, _, err := keyring.OpenOrCreate(filepath.Join(dir, "keyring.json"))
	if err != nil {
		b.Fatal(err)
	}
	broker := inmem.NewBroker()
	svc := chat.New(db, crypt.NewEnvelope(kr, db), broker, audit.NewRecorder(db, nil, log), parley.SystemClock, log, chat.DefaultConfig())
	defer svc.Close()
	api := New(Services{Chat: svc}, DefaultConfig(), log)
	defer broker.Subscribe(api.Deliver)()

	const members = 10
	ids := make([]parley.UserID, members)
	for i := range ids {
		u := &parley.User{ID: parley.NewUserID(), Username: fmt.Sprintf("member%d", i), DisplayName: "M",
			Status: parley.UserActive, Roles: []parley.Role{parley.RoleUser}, CreatedAt: time.Now()}
		if err := db.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		ids[i] = u.ID
	}
	// Permissions resolved as Authenticate does, so the check costs what
	// it costs in production.
	sender := &parley.Actor{UserID: ids[0], Roles: []parley.Role{parley.RoleUser}, ConnID: "sender",
		Perms: authz.NewCatalog(nil).Resolve(authz.GrantsFromRoles(ids[0], []parley.Role{parley.RoleUser}, ""))}
	conv, err := svc.CreateConversation(ctx, sender, parley.ConversationGroup, ids[1:], "bench")
	if err != nil {
		b.Fatal(err)
	}

	var delivered atomic.Int64
	for _, id := range ids {
		c := &wsConn{id: "w_" + string(id), actor: &parley.Actor{UserID: id, SessionID: "s_" + string(id)},
			out: make(chan outItem, 1<<16)}
		api.hub.add(c)
		go func() {
			for range c.out {
				delivered.Add(1)
			}
		}()
	}
	frames := make([][]byte, b.N)
	for i := range frames {
		frames[i] = fmt.Appendf(nil, `{"type":"send","conversation_id":%q,"client_msg_id":"b-%d","body":"benchmark message number %d, about the length of a chat line"}`, conv.ID, i, i)
	}

	acks := make(chan parley.PendingSend, 4096)
	done := make(chan struct{})
	go func() {
		for p := range acks {
			if _, err := p.Wait(ctx); err != nil {
				b.Error(err)
			}
		}
		close(done)
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var f wire.ClientFrame
		if err := wire.DecodeBytes(frames[i], &f); err != nil {
			b.Fatal(err)
		}
		if err := wire.CheckClientFrame(&f); err != nil {
			b.Fatal(err)
		}
		p, err := svc.Submit(ctx, sender, parley.ConversationID(f.ConversationID), f.ClientMsgID, *f.Body)
		if err != nil {
			b.Fatal(err)
		}
		acks <- p
	}
	close(acks)
	<-done
	for delivered.Load() < int64(b.N*members) { // every member connection, the sender's included
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
