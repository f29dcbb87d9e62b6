package sqldb_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

func newConversation(created time.Time, members ...parley.UserID) (*parley.Conversation, *parley.ConversationKey) {
	c := &parley.Conversation{
		ID:        parley.NewConversationID(),
		Type:      parley.ConversationGroup,
		Title:     "group",
		MemberIDs: members,
		CreatedBy: members[0],
		CreatedAt: created,
		KeyEpoch:  1,
	}
	k := &parley.ConversationKey{ConversationID: c.ID, Epoch: 1, KEKID: "kek-1", Wrapped: []byte("wrapped-dek"), CreatedAt: created}
	return c, k
}

func createConversation(t *testing.T, db *sqldb.DB, created time.Time, members ...parley.UserID) *parley.Conversation {
	t.Helper()
	c, k := newConversation(created, members...)
	must(t, db.CreateConversation(context.Background(), c, k))
	return c
}

func TestConversations(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a, b, c := createUser(t, db, "a"), createUser(t, db, "b"), createUser(t, db, "c")

		group, key := newConversation(t0, c.ID, a.ID, b.ID) // member order is kept
		must(t, db.CreateConversation(ctx, group, key))
		got, err := db.ConversationByID(ctx, group.ID)
		must(t, err)
		want := *group
		want.CreatedAt = t0.UTC()
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("ConversationByID = %+v, want %+v", got, &want)
		}
		_, err = db.ConversationByID(ctx, parley.NewConversationID())
		wantCode(t, err, parley.CodeNotFound)
		wantCode(t, db.CreateConversation(ctx, group, nil), parley.CodeConflict)

		gotKey, err := db.ConversationKey(ctx, group.ID, 1)
		must(t, err)
		wantKey := *key
		wantKey.CreatedAt = t0.UTC()
		if !reflect.DeepEqual(gotKey, &wantKey) {
			t.Errorf("ConversationKey = %+v, want %+v", gotKey, &wantKey)
		}
		_, err = db.ConversationKey(ctx, group.ID, 2)
		wantCode(t, err, parley.CodeNotFound)

		// Direct conversations: one per pair.
		direct, dkey := newConversation(t0.Add(time.Second), a.ID, b.ID)
		direct.Type, direct.Title, direct.DirectKey = parley.ConversationDirect, "", string(a.ID)+":"+string(b.ID)
		must(t, db.CreateConversation(ctx, direct, dkey))
		again, akey := newConversation(t0.Add(2*time.Second), a.ID, b.ID)
		again.Type, again.DirectKey = parley.ConversationDirect, direct.DirectKey
		wantCode(t, db.CreateConversation(ctx, again, akey), parley.CodeConflict)
		if _, err := db.ConversationByID(ctx, again.ID); parley.ErrorCode(err) != parley.CodeNotFound {
			t.Errorf("a refused conversation was partly stored: %v", err)
		}
		got, err = db.DirectConversation(ctx, direct.DirectKey)
		must(t, err)
		if got.ID != direct.ID || !slices.Equal(got.MemberIDs, direct.MemberIDs) {
			t.Errorf("DirectConversation = %+v", got)
		}
		_, err = db.DirectConversation(ctx, "x:y")
		wantCode(t, err, parley.CodeNotFound)

		// An unknown member is a missing reference, and nothing is stored.
		bad, bkey := newConversation(t0, a.ID, parley.NewUserID())
		wantCode(t, db.CreateConversation(ctx, bad, bkey), parley.CodeNotFound)
		if _, err := db.ConversationByID(ctx, bad.ID); parley.ErrorCode(err) != parley.CodeNotFound {
			t.Errorf("conversation with an unknown member was stored: %v", err)
		}
	})
}

func TestConversationsForUser(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a, b, c := createUser(t, db, "a"), createUser(t, db, "b"), createUser(t, db, "c")
		old := createConversation(t, db, t0, a.ID, b.ID)
		mid := createConversation(t, db, t0.Add(time.Minute), a.ID, c.ID)
		newest := createConversation(t, db, t0.Add(2*time.Minute), b.ID, c.ID)

		ids := func(cs []*parley.Conversation) []parley.ConversationID {
			var out []parley.ConversationID
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		got, err := db.ConversationsForUser(ctx, a.ID)
		must(t, err)
		if !slices.Equal(ids(got), []parley.ConversationID{mid.ID, old.ID}) {
			t.Errorf("ConversationsForUser(a) = %v, want [mid old]", ids(got))
		}
		if !slices.Equal(got[0].MemberIDs, []parley.UserID{a.ID, c.ID}) || !slices.Equal(got[1].MemberIDs, []parley.UserID{a.ID, b.ID}) {
			t.Errorf("members: %v %v", got[0].MemberIDs, got[1].MemberIDs)
		}

		// A new message in the oldest conversation moves it to the front.
		p := pending(old.ID, a.ID, "m1", "hello")
		p.Msg.SentAt = t0.Add(time.Hour)
		must(t, db.AppendMessages(ctx, []*parley.PendingMessage{p}, copySeal))
		got, _ = db.ConversationsForUser(ctx, b.ID)
		if !slices.Equal(ids(got), []parley.ConversationID{old.ID, newest.ID}) {
			t.Errorf("after a message, ConversationsForUser(b) = %v, want [old newest]", ids(got))
		}
		if got[0].LastSeq != 1 {
			t.Errorf("LastSeq = %d, want 1", got[0].LastSeq)
		}
		none, err := db.ConversationsForUser(ctx, parley.NewUserID())
		must(t, err)
		if len(none) != 0 {
			t.Errorf("unknown user has %d conversations", len(none))
		}
	})
}

func TestReadMarkers(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a, b := createUser(t, db, "a"), createUser(t, db, "b")
		conv := createConversation(t, db, t0, a.ID, b.ID)
		for _, step := range []struct {
			user parley.UserID
			seq  int64
		}{
			{a.ID, 5}, {a.ID, 3}, {b.ID, 1}, {a.ID, 7}, {a.ID, 7}, {b.ID, 0},
		} {
			must(t, db.SetReadMarker(ctx, conv.ID, step.user, step.seq))
		}
		got, err := db.ReadMarkers(ctx, conv.ID)
		must(t, err)
		if want := map[parley.UserID]int64{a.ID: 7, b.ID: 1}; !reflect.DeepEqual(got, want) {
			t.Errorf("ReadMarkers = %v, want %v (markers never go down)", got, want)
		}
		wantCode(t, db.SetReadMarker(ctx, parley.NewConversationID(), a.ID, 1), parley.CodeNotFound)
	})
}
