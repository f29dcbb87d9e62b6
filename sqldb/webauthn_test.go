package sqldb_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

func newWebAuthnCredential(user parley.UserID, id string, credID byte, created time.Time) *parley.WebAuthnCredential {
	return &parley.WebAuthnCredential{
		ID: id, UserID: user, CredentialID: []byte{credID, 0xff, 0x00, 0x7f},
		PublicKeySealed: []byte("sealed-" + id), AttestationType: "self", AttestationFormat: "packed",
		SignCount: 7, AAGUID: make([]byte, 16), Transports: []string{"usb", "nfc"},
		BackupEligible: true, BackupState: false, UserVerified: true, Name: "YubiKey " + id,
		CreatedAt: created,
	}
}

// TestWebAuthnCredentials: credentials round-trip exactly on both
// databases, a credential ID belongs to one account only, and another
// user's handle is not_found (Z6).
func TestWebAuthnCredentials(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		c1 := newWebAuthnCredential(alice.ID, "wa_1", 1, t0)
		must(t, db.CreateWebAuthnCredential(ctx, c1))
		dup := newWebAuthnCredential(bob.ID, "wa_dup", 1, t0) // same credential ID, other user
		wantCode(t, db.CreateWebAuthnCredential(ctx, dup), parley.CodeConflict)
		wantCode(t, db.CreateWebAuthnCredential(ctx, newWebAuthnCredential(parley.NewUserID(), "wa_x", 9, t0)), parley.CodeNotFound)
		c2 := newWebAuthnCredential(alice.ID, "wa_2", 2, t0.Add(time.Second))
		c2.AAGUID, c2.Transports, c2.BackupEligible, c2.UserVerified = nil, nil, false, false
		must(t, db.CreateWebAuthnCredential(ctx, c2))

		got, err := db.WebAuthnCredentialByCredentialID(ctx, c1.CredentialID)
		must(t, err)
		want := *c1
		want.CreatedAt = c1.CreatedAt.UTC()
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("by credential ID = %+v, want %+v", got, &want)
		}
		_, err = db.WebAuthnCredentialByCredentialID(ctx, []byte("nope"))
		wantCode(t, err, parley.CodeNotFound)

		list, err := db.ListWebAuthnCredentials(ctx, alice.ID)
		must(t, err)
		if len(list) != 2 || list[0].ID != "wa_1" || list[1].ID != "wa_2" || list[1].AAGUID != nil || list[1].Transports != nil {
			t.Fatalf("list = %+v", list)
		}
		if n, err := db.CountWebAuthnCredentials(ctx, alice.ID); err != nil || n != 2 {
			t.Fatalf("count = %d, %v", n, err)
		}
		if list, _ := db.ListWebAuthnCredentials(ctx, bob.ID); len(list) != 0 {
			t.Fatalf("bob has %d credentials", len(list))
		}

		wantCode(t, db.DeleteWebAuthnCredential(ctx, bob.ID, "wa_1", false), parley.CodeNotFound)
		wantCode(t, db.DeleteWebAuthnCredential(ctx, alice.ID, "wa_nope", false), parley.CodeNotFound)
		must(t, db.DeleteWebAuthnCredential(ctx, alice.ID, "wa_2", true))
		// keepLast refuses the last one, but a foreign handle is still not_found.
		wantCode(t, db.DeleteWebAuthnCredential(ctx, alice.ID, "wa_1", true), parley.CodeConflict)
		wantCode(t, db.DeleteWebAuthnCredential(ctx, bob.ID, "wa_1", true), parley.CodeNotFound)
		must(t, db.DeleteWebAuthnCredential(ctx, alice.ID, "wa_1", false))
		if n, _ := db.CountWebAuthnCredentials(ctx, alice.ID); n != 0 {
			t.Fatalf("count after delete = %d", n)
		}
	})
}

// TestWebAuthnSignCounter: the counter only moves forward, atomically; a
// counter-less authenticator (always 0) keeps working (A1 clone detection).
func TestWebAuthnSignCounter(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "carol")
		c := newWebAuthnCredential(u.ID, "wa_c", 3, t0)
		must(t, db.CreateWebAuthnCredential(ctx, c))
		used := t0.Add(time.Minute)
		for _, step := range []struct {
			count uint32
			ok    bool
		}{{8, true}, {8, false}, {5, false}, {9, true}, {0, false}} {
			ok, err := db.UseWebAuthnCredential(ctx, "wa_c", step.count, true, used)
			must(t, err)
			if ok != step.ok {
				t.Fatalf("use with counter %d: advanced = %v, want %v", step.count, ok, step.ok)
			}
		}
		got, _ := db.WebAuthnCredentialByCredentialID(ctx, c.CredentialID)
		if got.SignCount != 9 || !got.BackupState || !got.LastUsedAt.Equal(used) {
			t.Fatalf("after use: %+v", got)
		}
		ok, err := db.UseWebAuthnCredential(ctx, "wa_gone", 10, false, used)
		if err != nil || ok {
			t.Fatalf("unknown credential: %v, %v", ok, err)
		}

		zero := newWebAuthnCredential(u.ID, "wa_z", 4, t0)
		zero.SignCount = 0
		must(t, db.CreateWebAuthnCredential(ctx, zero))
		for range 2 {
			if ok, err := db.UseWebAuthnCredential(ctx, "wa_z", 0, false, used); err != nil || !ok {
				t.Fatalf("counter-less authenticator refused: %v, %v", ok, err)
			}
		}

		// Concurrent uses with the same counter: exactly one wins.
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := db.UseWebAuthnCredential(ctx, "wa_c", 20, false, used)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d concurrent uses of one counter value succeeded", wins)
		}
	})
}

// TestWebAuthnCeremonies: a ceremony is bound to its session and purpose,
// replaced by a newer one, taken at most once, and removed with its session.
func TestWebAuthnCeremonies(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "dave")
		s := newSession(u.ID, "s_wa", t0)
		must(t, db.CreateSession(ctx, s))
		c := &parley.WebAuthnCeremony{SessionID: s.ID, Purpose: parley.WebAuthnLogin, UserID: u.ID,
			Data: []byte(`{"challenge":"one"}`), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
		must(t, db.PutWebAuthnCeremony(ctx, c))
		c2 := *c
		c2.Data = []byte(`{"challenge":"two"}`)
		must(t, db.PutWebAuthnCeremony(ctx, &c2)) // replaces the first
		step := *c
		step.Purpose, step.Data = parley.WebAuthnStepUp, []byte(`{"challenge":"step"}`)
		must(t, db.PutWebAuthnCeremony(ctx, &step))
		bad := *c
		bad.SessionID = "s_none"
		wantCode(t, db.PutWebAuthnCeremony(ctx, &bad), parley.CodeNotFound)

		_, err := db.TakeWebAuthnCeremony(ctx, s.ID, parley.WebAuthnRegistration)
		wantCode(t, err, parley.CodeNotFound) // other purpose
		got, err := db.TakeWebAuthnCeremony(ctx, s.ID, parley.WebAuthnLogin)
		must(t, err)
		if string(got.Data) != `{"challenge":"two"}` || got.UserID != u.ID || !got.ExpiresAt.Equal(c.ExpiresAt) || !got.CreatedAt.Equal(t0) {
			t.Fatalf("taken = %+v", got)
		}
		_, err = db.TakeWebAuthnCeremony(ctx, s.ID, parley.WebAuthnLogin)
		wantCode(t, err, parley.CodeNotFound) // single use

		// Expired ceremonies are swept by the next Put.
		late := &parley.WebAuthnCeremony{SessionID: s.ID, Purpose: parley.WebAuthnRegistration, UserID: u.ID,
			Data: []byte("{}"), CreatedAt: t0.Add(10 * time.Minute), ExpiresAt: t0.Add(15 * time.Minute)}
		must(t, db.PutWebAuthnCeremony(ctx, late))
		_, err = db.TakeWebAuthnCeremony(ctx, s.ID, parley.WebAuthnStepUp)
		wantCode(t, err, parley.CodeNotFound)

		// Ending the session ends its ceremonies.
		must(t, db.DeleteSession(ctx, s.ID))
		_, err = db.TakeWebAuthnCeremony(ctx, s.ID, parley.WebAuthnRegistration)
		wantCode(t, err, parley.CodeNotFound)

		// Concurrent takes: exactly one caller gets the challenge.
		s2 := newSession(u.ID, "s_wa2", t0)
		must(t, db.CreateSession(ctx, s2))
		c.SessionID = s2.ID
		must(t, db.PutWebAuthnCeremony(ctx, c))
		var wg sync.WaitGroup
		var mu sync.Mutex
		got1 := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.TakeWebAuthnCeremony(ctx, s2.ID, parley.WebAuthnLogin)
				if err == nil {
					mu.Lock()
					got1++
					mu.Unlock()
				} else if !parley.IsNotFound(err) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if got1 != 1 {
			t.Fatalf("%d concurrent takes succeeded", got1)
		}
	})
}
