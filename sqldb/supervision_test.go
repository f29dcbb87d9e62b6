package sqldb_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

func TestSupervisionGrants(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		sup, other := createUser(t, db, "sup"), createUser(t, db, "other")
		dept := &parley.Department{ID: parley.NewDepartmentID(), Name: "Sales", CreatedAt: t0}
		must(t, db.CreateDepartment(ctx, dept))
		g := &parley.SupervisionGrant{ID: parley.NewSupervisionID(), SupervisorID: sup.ID, DepartmentID: dept.ID,
			Reason: "case 17: suspected leak", TicketID: "T-17", Status: parley.SupervisionPending,
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		must(t, db.CreateSupervision(ctx, g))
		wantCode(t, db.CreateSupervision(ctx, g), parley.CodeConflict)
		ghost := *g
		ghost.ID, ghost.SupervisorID = parley.NewSupervisionID(), parley.NewUserID()
		wantCode(t, db.CreateSupervision(ctx, &ghost), parley.CodeNotFound)
		later := *g
		later.ID, later.Status, later.CreatedAt, later.ExpiresAt = parley.NewSupervisionID(), parley.SupervisionActive, t0.Add(time.Minute), t0.Add(2*time.Hour)
		must(t, db.CreateSupervision(ctx, &later))

		got, err := db.SupervisionByID(ctx, g.ID)
		must(t, err)
		want := *g
		want.CreatedAt, want.ExpiresAt = t0.UTC(), t0.Add(time.Hour).UTC()
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("SupervisionByID = %+v, want %+v", got, &want)
		}
		_, err = db.SupervisionByID(ctx, parley.NewSupervisionID())
		wantCode(t, err, parley.CodeNotFound)

		mine, err := db.SupervisionsBySupervisor(ctx, sup.ID)
		must(t, err)
		if len(mine) != 2 || mine[0].ID != later.ID || mine[1].ID != g.ID {
			t.Errorf("SupervisionsBySupervisor: %+v (want newest first)", mine)
		}
		if none, err := db.SupervisionsBySupervisor(ctx, other.ID); err != nil || len(none) != 0 {
			t.Errorf("another supervisor's list: %v, %v", none, err)
		}
		pending, err := db.SupervisionsByStatus(ctx, parley.SupervisionPending)
		must(t, err)
		if len(pending) != 1 || pending[0].ID != g.ID {
			t.Errorf("pending: %+v", pending)
		}

		// Approval is a compare-and-set on the status: the second approver
		// loses with a conflict, and nothing changes.
		approved := *got
		approved.Status, approved.ApprovedBy, approved.ApprovedAt = parley.SupervisionActive, other.ID, t0.Add(10*time.Minute)
		approved.ExpiresAt = approved.ApprovedAt.Add(time.Hour)
		must(t, db.UpdateSupervision(ctx, &approved, parley.SupervisionPending))
		again := approved
		again.ApprovedBy = sup.ID
		wantCode(t, db.UpdateSupervision(ctx, &again, parley.SupervisionPending), parley.CodeConflict)
		got, err = db.SupervisionByID(ctx, g.ID)
		must(t, err)
		if got.Status != parley.SupervisionActive || got.ApprovedBy != other.ID || !got.ApprovedAt.Equal(t0.Add(10*time.Minute)) ||
			!got.ExpiresAt.Equal(t0.Add(70*time.Minute)) {
			t.Errorf("after approval: %+v", got)
		}
		missing := approved
		missing.ID = parley.NewSupervisionID()
		wantCode(t, db.UpdateSupervision(ctx, &missing, parley.SupervisionActive), parley.CodeNotFound)
		ended := *got
		ended.Status, ended.EndedAt = parley.SupervisionEnded, t0.Add(20*time.Minute)
		must(t, db.UpdateSupervision(ctx, &ended, parley.SupervisionActive))
		if got, _ = db.SupervisionByID(ctx, g.ID); got.Status != parley.SupervisionEnded || !got.EndedAt.Equal(ended.EndedAt) {
			t.Errorf("after end: %+v", got)
		}
	})
}

// TestConversationsInSubtree: a conversation belongs to a subtree when any
// member's department is its root or below; the tree is read at query time,
// so moving a department in or out changes the answer at once.
func TestConversationsInSubtree(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		dept := func(name string, parent parley.DepartmentID) *parley.Department {
			d := &parley.Department{ID: parley.NewDepartmentID(), ParentID: parent, Name: name, CreatedAt: t0}
			must(t, db.CreateDepartment(ctx, d))
			return d
		}
		root := dept("Root", "")
		a := dept("A", root.ID)
		a1 := dept("A1", a.ID)
		b := dept("B", root.ID)
		user := func(name string, d *parley.Department) *parley.User {
			u := newUser(name)
			u.DepartmentID = d.ID
			must(t, db.CreateUser(ctx, u))
			return u
		}
		inA, inA1, inB, inB2 := user("ina", a), user("ina1", a1), user("inb", b), user("inb2", b)
		withA := createConversation(t, db, t0, inA.ID, inB.ID)
		withA1 := createConversation(t, db, t0, inB.ID, inB2.ID, inA1.ID)
		onlyB := createConversation(t, db, t0, inB.ID, inB2.ID)

		ids := func(cs []*parley.Conversation) map[parley.ConversationID]int {
			out := map[parley.ConversationID]int{}
			for _, c := range cs {
				out[c.ID] = len(c.MemberIDs)
			}
			return out
		}
		got, err := db.ConversationsInSubtree(ctx, a.ID, "", 100)
		must(t, err)
		if m := ids(got); len(m) != 2 || m[withA.ID] != 2 || m[withA1.ID] != 3 {
			t.Fatalf("subtree of A: %v", m)
		}
		for _, c := range got {
			if want := map[parley.ConversationID][]parley.UserID{withA.ID: withA.MemberIDs, withA1.ID: withA1.MemberIDs}[c.ID]; !reflect.DeepEqual(c.MemberIDs, want) {
				t.Errorf("members of %s: %v, want %v in order", c.ID, c.MemberIDs, want)
			}
		}
		// Paging by ID.
		first, err := db.ConversationsInSubtree(ctx, a.ID, "", 1)
		must(t, err)
		rest, err := db.ConversationsInSubtree(ctx, a.ID, first[0].ID, 100)
		must(t, err)
		if len(first) != 1 || len(rest) != 1 || rest[0].ID <= first[0].ID {
			t.Errorf("pages: %v then %v", ids(first), ids(rest))
		}
		if got, err := db.ConversationsInSubtree(ctx, a1.ID, "", 100); err != nil || len(got) != 1 || got[0].ID != withA1.ID {
			t.Errorf("subtree of A1: %v, %v", got, err)
		}
		if got, err := db.ConversationsInSubtree(ctx, parley.NewDepartmentID(), "", 100); err != nil || len(got) != 0 {
			t.Errorf("unknown department: %v, %v", got, err)
		}
		for _, c := range []struct {
			conv parley.ConversationID
			root parley.DepartmentID
			want bool
		}{
			{withA.ID, a.ID, true}, {withA1.ID, a.ID, true}, {onlyB.ID, a.ID, false}, {withA.ID, a1.ID, false},
			{onlyB.ID, root.ID, true}, {parley.NewConversationID(), a.ID, false},
		} {
			in, err := db.ConversationInSubtree(ctx, c.conv, c.root)
			if err != nil || in != c.want {
				t.Errorf("ConversationInSubtree(%s, %s) = %v, %v; want %v", c.conv, c.root, in, err, c.want)
			}
		}
		// B moves under A: its conversations follow at once.
		b.ParentID = a.ID
		must(t, db.UpdateDepartment(ctx, b))
		if in, err := db.ConversationInSubtree(ctx, onlyB.ID, a.ID); err != nil || !in {
			t.Errorf("after the move: %v, %v", in, err)
		}
	})
}

func TestRecallMessage(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a, sup := createUser(t, db, "a"), createUser(t, db, "sup")
		c := createConversation(t, db, t0, a.ID)
		batch := []*parley.PendingMessage{pending(c.ID, a.ID, "1", "keep"), pending(c.ID, a.ID, "2", "recall me")}
		must(t, db.AppendMessages(ctx, batch, copySeal))

		at := t0.Add(time.Hour)
		m, err := db.RecallMessage(ctx, c.ID, 2, sup.ID, at)
		must(t, err)
		if m.Seq != 2 || len(m.Sealed) != 0 || m.RecalledBy != sup.ID || !m.RecalledAt.Equal(at) || m.ID != batch[1].Msg.ID {
			t.Errorf("recalled: %+v", m)
		}
		_, err = db.RecallMessage(ctx, c.ID, 2, sup.ID, at)
		wantCode(t, err, parley.CodeConflict)
		_, err = db.RecallMessage(ctx, c.ID, 3, sup.ID, at)
		wantCode(t, err, parley.CodeNotFound)
		_, err = db.RecallMessage(ctx, parley.NewConversationID(), 1, sup.ID, at)
		wantCode(t, err, parley.CodeNotFound)

		// The ciphertext is gone from the row, not hidden: what any later
		// read gets is empty; the other message is untouched.
		msgs, err := db.MessagesAfter(ctx, c.ID, 0, 10)
		must(t, err)
		if len(msgs) != 2 || string(msgs[0].Sealed) != "sealed(1):keep" || !msgs[0].RecalledAt.IsZero() || msgs[0].RecalledBy != "" {
			t.Fatalf("first message: %+v", msgs[0])
		}
		if len(msgs[1].Sealed) != 0 || !msgs[1].RecalledAt.Equal(at) || msgs[1].RecalledBy != sup.ID {
			t.Errorf("recalled message as read back: %+v", msgs[1])
		}
		// The sequence goes on without reusing the recalled seq.
		next := []*parley.PendingMessage{pending(c.ID, a.ID, "3", "after")}
		must(t, db.AppendMessages(ctx, next, copySeal))
		if next[0].Msg.Seq != 3 {
			t.Errorf("next seq %d", next[0].Msg.Seq)
		}
	})
}

func TestConversationMutes(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a, b, sup := createUser(t, db, "a"), createUser(t, db, "b"), createUser(t, db, "sup")
		c := createConversation(t, db, t0, a.ID, b.ID)
		grant := parley.NewSupervisionID()
		must(t, db.MuteMember(ctx, &parley.ConversationMute{ConversationID: c.ID, UserID: a.ID, Until: t0.Add(time.Hour),
			MutedBy: sup.ID, GrantID: grant, CreatedAt: t0}))
		must(t, db.MuteMember(ctx, &parley.ConversationMute{ConversationID: c.ID, UserID: b.ID, Until: t0.Add(time.Minute),
			MutedBy: sup.ID, GrantID: grant, CreatedAt: t0}))
		got, err := db.ConversationMutes(ctx, c.ID, t0.Add(2*time.Minute))
		must(t, err)
		if len(got) != 1 || got[0].UserID != a.ID || !got[0].Until.Equal(t0.Add(time.Hour)) || got[0].GrantID != grant ||
			got[0].MutedBy != sup.ID || got[0].ConversationID != c.ID {
			t.Fatalf("mutes: %+v", got)
		}
		// A second mute replaces the first (here: shortens it).
		must(t, db.MuteMember(ctx, &parley.ConversationMute{ConversationID: c.ID, UserID: a.ID, Until: t0.Add(time.Minute),
			MutedBy: sup.ID, GrantID: grant, CreatedAt: t0.Add(time.Minute)}))
		if got, err := db.ConversationMutes(ctx, c.ID, t0.Add(2*time.Minute)); err != nil || len(got) != 0 {
			t.Errorf("after the replacement: %+v, %v", got, err)
		}
		if got, err := db.ConversationMutes(ctx, c.ID, t0); err != nil || len(got) != 2 {
			t.Errorf("at t0: %+v, %v", got, err)
		}
		wantCode(t, db.MuteMember(ctx, &parley.ConversationMute{ConversationID: parley.NewConversationID(), UserID: a.ID,
			Until: t0.Add(time.Hour), MutedBy: sup.ID, GrantID: grant, CreatedAt: t0}), parley.CodeNotFound)
	})
}
