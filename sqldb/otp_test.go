package sqldb_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

func TestOTPKeyFirstWriterWins(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		first, err := db.EnsureOTPKey(ctx, []byte("sealed-1"), t0)
		must(t, err)
		second, err := db.EnsureOTPKey(ctx, []byte("sealed-2"), t0)
		must(t, err)
		if string(first) != "sealed-1" || string(second) != "sealed-1" {
			t.Fatalf("keys %q, %q; want the first one twice", first, second)
		}
	})
}

func TestOTPChallenges(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "olga")
		mk := func(id string, at time.Time) *parley.OTPChallenge {
			return &parley.OTPChallenge{ID: id, UserID: u.ID, Purpose: parley.OTPLogin, Channel: parley.ChannelEmail,
				Binding: "s_pending", CodeMAC: []byte("mac-" + id), CreatedAt: at, ExpiresAt: at.Add(5 * time.Minute)}
		}
		withPayload := mk("c0", t0.Add(-2*time.Hour))
		withPayload.Purpose, withPayload.Payload = parley.OTPContact, []byte("sealed-address")
		must(t, db.CreateOTPChallenge(ctx, withPayload, t0.Add(-3*time.Hour), func([]time.Time) error { return nil }))
		gotP, err := db.LatestOTPChallenge(ctx, u.ID, parley.OTPContact, parley.ChannelEmail, "s_pending")
		must(t, err)
		if string(gotP.Payload) != "sealed-address" {
			t.Fatalf("payload %q", gotP.Payload)
		}
		var seen []time.Time
		accept := func(recent []time.Time) error { seen = recent; return nil }
		must(t, db.CreateOTPChallenge(ctx, mk("c1", t0), t0.Add(-time.Hour), accept))
		must(t, db.CreateOTPChallenge(ctx, mk("c2", t0.Add(time.Minute)), t0.Add(-time.Hour), accept))
		if len(seen) != 1 || !seen[0].Equal(t0) {
			t.Fatalf("check saw %v, want [t0]", seen)
		}
		// The check sees newest first and can refuse; nothing is stored then.
		refuse := errors.New("too soon")
		err = db.CreateOTPChallenge(ctx, mk("c3", t0.Add(2*time.Minute)), t0.Add(-time.Hour), func(recent []time.Time) error {
			if len(recent) != 2 || !recent[0].Equal(t0.Add(time.Minute)) {
				t.Errorf("recent = %v", recent)
			}
			return &parley.Error{Code: parley.CodeRateLimited, Message: "slow down", Err: refuse}
		})
		wantCode(t, err, parley.CodeRateLimited)
		wantCode(t, db.CreateOTPChallenge(ctx, &parley.OTPChallenge{ID: "x", UserID: parley.NewUserID()}, t0, accept), parley.CodeNotFound)

		got, err := db.LatestOTPChallenge(ctx, u.ID, parley.OTPLogin, parley.ChannelEmail, "s_pending")
		must(t, err)
		want := mk("c2", t0.Add(time.Minute))
		want.CreatedAt, want.ExpiresAt = want.CreatedAt.UTC(), want.ExpiresAt.UTC()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("latest = %+v, want %+v", got, want)
		}
		for _, miss := range [][3]string{{"step_up", "email", "s_pending"}, {"login", "sms", "s_pending"}, {"login", "email", "other"}} {
			_, err := db.LatestOTPChallenge(ctx, u.ID, parley.OTPPurpose(miss[0]), miss[1], miss[2])
			wantCode(t, err, parley.CodeNotFound)
		}

		// Attempts count; a challenge at the limit cannot be consumed.
		for i := 1; i <= 5; i++ {
			n, err := db.IncrementOTPAttempts(ctx, "c1")
			must(t, err)
			if n != i {
				t.Fatalf("attempts = %d, want %d", n, i)
			}
		}
		wantCode(t, db.ConsumeOTPChallenge(ctx, "c1", t0, 5), parley.CodeNotFound)
		_, err = db.IncrementOTPAttempts(ctx, "nope")
		wantCode(t, err, parley.CodeNotFound)

		// Single use.
		must(t, db.ConsumeOTPChallenge(ctx, "c2", t0.Add(2*time.Minute), 5))
		wantCode(t, db.ConsumeOTPChallenge(ctx, "c2", t0.Add(2*time.Minute), 5), parley.CodeNotFound)
		got, _ = db.LatestOTPChallenge(ctx, u.ID, parley.OTPLogin, parley.ChannelEmail, "s_pending")
		if !got.UsedAt.Equal(t0.Add(2 * time.Minute)) {
			t.Fatalf("used_at = %v", got.UsedAt)
		}

		n, err := db.DeleteOTPChallenges(ctx, t0.Add(30*time.Second))
		must(t, err)
		if n != 2 {
			t.Fatalf("swept %d, want 2", n)
		}
	})
}

func TestContacts(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "paul")
		c := &parley.Contact{UserID: u.ID, Channel: parley.ChannelEmail, AddressSealed: []byte("sealed-a"), UpdatedAt: t0}
		must(t, db.PutContact(ctx, c))
		must(t, db.PutContact(ctx, &parley.Contact{UserID: u.ID, Channel: parley.ChannelSMS, AddressSealed: []byte("sealed-p"),
			Verified: true, UpdatedAt: t0}))
		list, err := db.Contacts(ctx, u.ID)
		must(t, err)
		if len(list) != 2 || list[0].Channel != "email" || list[0].Verified || !list[1].Verified || string(list[1].AddressSealed) != "sealed-p" {
			t.Fatalf("contacts = %+v", list)
		}

		// Put replaces.
		must(t, db.PutContact(ctx, &parley.Contact{UserID: u.ID, Channel: parley.ChannelEmail, AddressSealed: []byte("sealed-b"),
			Verified: true, UpdatedAt: t0.Add(time.Second)}))
		list, _ = db.Contacts(ctx, u.ID)
		if !list[0].Verified || string(list[0].AddressSealed) != "sealed-b" || !list[0].UpdatedAt.Equal(t0.Add(time.Second)) {
			t.Fatalf("after put: %+v", list[0])
		}

		must(t, db.DeleteContact(ctx, u.ID, parley.ChannelSMS))
		wantCode(t, db.DeleteContact(ctx, u.ID, parley.ChannelSMS), parley.CodeNotFound)
		list, _ = db.Contacts(ctx, u.ID)
		if len(list) != 1 {
			t.Fatalf("after delete: %d contacts", len(list))
		}
	})
}

func TestPushRequests(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "quinn")
		p := &parley.PushRequest{ID: "p1", UserID: u.ID, SessionID: "s_pending", TokenHash: []byte("th"), Number: 42,
			Status: parley.PushPending, SourceIP: "203.0.113.9", Location: "public internet", UserAgent: "ua",
			CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
		must(t, db.CreatePushRequest(ctx, p))
		wantCode(t, db.CreatePushRequest(ctx, p), parley.CodeConflict)
		got, err := db.PushRequestByID(ctx, "p1")
		must(t, err)
		want := *p
		want.CreatedAt, want.ExpiresAt = p.CreatedAt.UTC(), p.ExpiresAt.UTC()
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("got %+v, want %+v", got, &want)
		}
		_, err = db.PushRequestByID(ctx, "nope")
		wantCode(t, err, parley.CodeNotFound)
		n, err := db.CountPushRequests(ctx, "s_pending")
		must(t, err)
		if n != 1 {
			t.Fatalf("count %d", n)
		}

		// Compare-and-set: the first decision wins.
		ok, err := db.TransitionPushRequest(ctx, "p1", parley.PushPending, parley.PushApproved, t0.Add(time.Minute), "s_phone", "")
		must(t, err)
		if !ok {
			t.Fatal("approve failed")
		}
		ok, err = db.TransitionPushRequest(ctx, "p1", parley.PushPending, parley.PushDenied, t0.Add(time.Minute), "s_other", "no")
		must(t, err)
		if ok {
			t.Fatal("a second decision won")
		}
		got, _ = db.PushRequestByID(ctx, "p1")
		if got.Status != parley.PushApproved || got.DecidedBy != "s_phone" || !got.DecidedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("after decision: %+v", got)
		}

		// Expiry returns each pending request once.
		p2 := *p
		p2.ID, p2.Status = "p2", parley.PushPending
		must(t, db.CreatePushRequest(ctx, &p2))
		// Only the pending, unexpired ones are listed (p1 was decided).
		open, err := db.PendingPushRequests(ctx, u.ID, t0.Add(4*time.Minute))
		must(t, err)
		if len(open) != 1 || open[0].ID != "p2" {
			t.Fatalf("pending = %+v", open)
		}
		if open, _ := db.PendingPushRequests(ctx, u.ID, t0.Add(5*time.Minute)); len(open) != 0 {
			t.Fatalf("pending at expiry = %+v", open)
		}
		exp, err := db.ExpirePushRequests(ctx, t0.Add(4*time.Minute))
		must(t, err)
		if len(exp) != 0 {
			t.Fatalf("expired early: %v", exp)
		}
		exp, err = db.ExpirePushRequests(ctx, t0.Add(5*time.Minute))
		must(t, err)
		if len(exp) != 1 || exp[0].ID != "p2" || exp[0].Status != parley.PushExpired {
			t.Fatalf("expired %+v", exp)
		}
		exp, _ = db.ExpirePushRequests(ctx, t0.Add(6*time.Minute))
		if len(exp) != 0 {
			t.Fatal("expired twice")
		}
		k, err := db.DeletePushRequests(ctx, t0.Add(time.Hour))
		must(t, err)
		if k != 2 {
			t.Fatalf("swept %d", k)
		}
	})
}
