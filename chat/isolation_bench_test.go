package chat_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/chat"
	"github.com/parleyhq/parley/crypt"
	"github.com/parleyhq/parley/directory"
	"github.com/parleyhq/parley/inmem"
	"github.com/parleyhq/parley/kms/keyring"
	"github.com/parleyhq/parley/sqldb"
)

// BenchmarkSubmitIsolation measures what department isolation (Z7) adds to
// the send path: Submit and the wait for the group commit on SQLite, into a
// group of 10 members, pipelined like httpapi.BenchmarkSendPath, with no
// isolation wired, with the open template, and with the strict template
// (the group lies in one department, so every send is checked and passes):
//
//	go test ./chat -run XXX -bench SubmitIsolation -cpu 1 -benchtime 50000x
func BenchmarkSubmitIsolation(b *testing.B) {
	for _, mode := range []string{"none", "open", "strict"} {
		b.Run(mode, func(b *testing.B) { benchSubmit(b, mode) })
	}
}

func benchSubmit(b *testing.B, mode string) {
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
	rec := audit.NewRecorder(db, nil, log)
	cfg := chat.DefaultConfig()
	dirSvc := directory.New(db, rec, parley.SystemClock)
	if mode != "none" {
		cfg.Isolation = dirSvc
	}
	root := &parley.Department{ID: parley.NewDepartmentID(), Name: "Org", CreatedAt: time.Now()}
	if err := db.CreateDepartment(ctx, root); err != nil {
		b.Fatal(err)
	}
	sys := &parley.Actor{UserID: "u_sys", Roles: []parley.Role{parley.RoleSystemAdmin}}
	team, err := dirSvc.CreateDepartment(ctx, sys, "Team", root.ID)
	if err != nil {
		b.Fatal(err)
	}
	if mode == "strict" {
		sec := &parley.Actor{UserID: "u_sec", Roles: []parley.Role{parley.RoleSecurityAdmin}}
		if err := dirSvc.SetIsolationPolicy(ctx, sec, &parley.IsolationPolicy{Template: parley.IsolationStrict}); err != nil {
			b.Fatal(err)
		}
	}
	svc := chat.New(db, crypt.NewEnvelope(kr, db), inmem.NewBroker(), rec, parley.SystemClock, log, cfg)
	defer svc.Close()

	ids := make([]parley.UserID, 10)
	for i := range ids {
		u := &parley.User{ID: parley.NewUserID(), Username: fmt.Sprintf("member%d", i), DisplayName: "M", DepartmentID: team.ID,
			Status: parley.UserActive, Roles: []parley.Role{parley.RoleUser}, CreatedAt: time.Now()}
		if err := db.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		ids[i] = u.ID
	}
	sender := &parley.Actor{UserID: ids[0], DepartmentID: team.ID, Roles: []parley.Role{parley.RoleUser}}
	conv, err := svc.CreateConversation(ctx, sender, parley.ConversationGroup, ids[1:], "bench")
	if err != nil {
		b.Fatal(err)
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
		p, err := svc.Submit(ctx, sender, conv.ID, fmt.Sprintf("b-%d", i), "benchmark message, about the length of a chat line")
		if err != nil {
			b.Fatal(err)
		}
		acks <- p
	}
	close(acks)
	<-done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkCheckWritable isolates the check itself: the cost per send of
// asking whether the conversation is writable, without the database write.
func BenchmarkCheckWritable(b *testing.B) {
	for _, mode := range []string{"open", "strict"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			db := parleyDB(b)
			dirSvc := directory.New(db, audit.NewRecorder(db, nil, slog.New(slog.DiscardHandler)), parley.SystemClock)
			if mode == "strict" {
				sec := &parley.Actor{UserID: "u_sec", Roles: []parley.Role{parley.RoleSecurityAdmin}}
				if err := dirSvc.SetIsolationPolicy(ctx, sec, &parley.IsolationPolicy{Template: parley.IsolationStrict}); err != nil {
					b.Fatal(err)
				}
			}
			check := chat.IsolationCheckForBench(dirSvc, db)
			c := &parley.Conversation{ID: parley.NewConversationID(), MemberIDs: []parley.UserID{"u_a", "u_b"}}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := check(ctx, c); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func parleyDB(b *testing.B) *sqldb.DB {
	b.Helper()
	db, err := sqldb.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "parley.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}
