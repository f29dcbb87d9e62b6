package sqldb_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

// TestLifecycleColumns: kind, end date, last login and the disabled
// fields round-trip; a new account without a kind is a person's.
func TestLifecycleColumns(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p := createUser(t, db, "person")
		if p.Kind != parley.AccountPerson {
			t.Fatalf("CreateUser left Kind %q", p.Kind)
		}
		svc := newUser("robot", parley.RoleUser)
		svc.Kind, svc.EndAt = parley.AccountService, t0.Add(48*time.Hour)
		must(t, db.CreateUser(ctx, svc))
		got, err := db.UserByID(ctx, svc.ID)
		must(t, err)
		if !got.IsService() || !got.EndAt.Equal(svc.EndAt) || !got.LastLoginAt.IsZero() || !got.DisabledAt.IsZero() {
			t.Fatalf("service account = %+v", got)
		}
		got, err = db.UserByUsername(ctx, "person")
		must(t, err)
		if got.Kind != parley.AccountPerson || !got.EndAt.IsZero() {
			t.Fatalf("person = %+v", got)
		}

		must(t, db.TouchLastLogin(ctx, p.ID, t0.Add(time.Hour)))
		must(t, db.TouchLastLogin(ctx, p.ID, t0)) // never moves back
		must(t, db.SetUserEndDate(ctx, p.ID, t0.Add(72*time.Hour)))
		got, _ = db.UserByID(ctx, p.ID)
		if !got.LastLoginAt.Equal(t0.Add(time.Hour)) || !got.EndAt.Equal(t0.Add(72*time.Hour)) {
			t.Fatalf("after touch and end date: %+v", got)
		}
		must(t, db.SetUserEndDate(ctx, p.ID, time.Time{}))
		wantCode(t, db.SetUserEndDate(ctx, "u_nobody", t0), parley.CodeNotFound)

		must(t, db.DisableUser(ctx, p.ID, t0.Add(2*time.Hour), svc.ID, "left"))
		got, _ = db.UserByID(ctx, p.ID)
		if got.Status != parley.UserDisabled || !got.DisabledAt.Equal(t0.Add(2*time.Hour)) || got.DisabledBy != svc.ID ||
			got.DisabledReason != "left" || !got.EndAt.IsZero() {
			t.Fatalf("disabled = %+v", got)
		}
		wantCode(t, db.DisableUser(ctx, p.ID, t0, "", "again"), parley.CodeConflict)
		wantCode(t, db.DisableUser(ctx, "u_nobody", t0, "", "x"), parley.CodeNotFound)
	})
}

// TestOffboardUser: one transaction disables the account, revokes every
// role but "user", removes device keys and second factors, service
// tokens and memberships (messages stay), and hands ownership on: to the
// successor where a member, else to the longest-standing active member,
// else to nobody. A direct conversation loses its pair key.
func TestOffboardUser(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		leaver := createUser(t, db, "leaver", parley.RoleUser, parley.RoleAuditor)
		b, c, d := createUser(t, db, "b"), createUser(t, db, "c"), createUser(t, db, "d")
		admin := createUser(t, db, "admin", parley.RoleUser, parley.RoleSystemAdmin)

		must(t, db.SetTOTP(ctx, leaver.ID, []byte("sealed"), true))
		must(t, db.ReplaceRecoveryCodes(ctx, leaver.ID, [][]byte{[]byte("h1"), []byte("h2")}))
		must(t, db.CreateWebAuthnCredential(ctx, newWebAuthnCredential(leaver.ID, "wa_1", 1, t0)))
		must(t, db.CreateWebAuthnCredential(ctx, newWebAuthnCredential(b.ID, "wa_b", 2, t0)))
		must(t, db.PutContact(ctx, &parley.Contact{UserID: leaver.ID, Channel: parley.ChannelEmail, AddressSealed: []byte("x"), Verified: true, UpdatedAt: t0}))
		must(t, db.TouchLoginSource(ctx, leaver.ID, "192.0.2.1", t0))
		must(t, db.CreateServiceToken(ctx, &parley.ServiceToken{ID: "st_1", UserID: leaver.ID, Name: "ci", TokenHash: []byte("hash-1"),
			CreatedBy: admin.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, 10))

		// owned: successor c is a member → c
		g1 := createConversation(t, db, t0, leaver.ID, b.ID, c.ID)
		// owned: successor not a member; b is first → b
		g2 := createConversation(t, db, t0, leaver.ID, b.ID, d.ID)
		// owned: d comes first but is disabled → b
		g3 := createConversation(t, db, t0, leaver.ID, d.ID, b.ID)
		// owned: nobody else → kept, no owner
		g4 := createConversation(t, db, t0, leaver.ID)
		// not owned
		g5 := createConversation(t, db, t0, b.ID, leaver.ID)
		dm, dk := newConversation(t0, b.ID, leaver.ID)
		dm.Type, dm.DirectKey = parley.ConversationDirect, string(b.ID)+"|"+string(leaver.ID)
		must(t, db.CreateConversation(ctx, dm, dk))
		must(t, db.AppendMessages(ctx, []*parley.PendingMessage{pending(g1.ID, leaver.ID, "m1", "kept")}, copySeal))
		must(t, db.SetReadMarker(ctx, g1.ID, leaver.ID, 1))
		must(t, db.DisableUser(ctx, d.ID, t0, "", "test"))

		res, err := db.OffboardUser(ctx, parley.Offboarding{UserID: leaver.ID, Successor: c.ID, At: t0.Add(time.Hour), By: admin.ID, Reason: "left the company"})
		must(t, err)
		if len(res.Roles) != 1 || res.Roles[0].Role != parley.RoleAuditor || !slices.Equal(res.TokenIDs, []string{"st_1"}) ||
			res.Passkeys != 1 || !res.TOTP || res.RecoveryCodes != 2 || res.Contacts != 1 || len(res.Conversations) != 6 {
			t.Fatalf("result = %+v", res)
		}
		owners := map[parley.ConversationID]parley.ConversationExit{}
		for _, e := range res.Conversations {
			owners[e.ConversationID] = e
		}
		for _, w := range []struct {
			id        parley.ConversationID
			owner     bool
			next      parley.UserID
			remaining int
		}{{g1.ID, true, c.ID, 2}, {g2.ID, true, b.ID, 2}, {g3.ID, true, b.ID, 2}, {g4.ID, true, "", 0}, {g5.ID, false, "", 1}, {dm.ID, false, "", 1}} {
			e := owners[w.id]
			if e.WasOwner != w.owner || e.NewOwner != w.next || e.Remaining != w.remaining {
				t.Errorf("%s: exit %+v, want owner=%v next=%q remaining=%d", w.id, e, w.owner, w.next, w.remaining)
			}
			conv, err := db.ConversationByID(ctx, w.id)
			must(t, err) // kept, even when empty
			if conv.HasMember(leaver.ID) {
				t.Errorf("%s: the leaver is still a member", w.id)
			}
			if w.owner && conv.CreatedBy != w.next {
				t.Errorf("%s: owner %q, want %q", w.id, conv.CreatedBy, w.next)
			}
		}
		if conv, _ := db.ConversationByID(ctx, dm.ID); conv.DirectKey != "" {
			t.Error("the direct conversation kept its pair key")
		}
		if _, err := db.DirectConversation(ctx, dm.DirectKey); !parley.IsNotFound(err) {
			t.Errorf("pair lookup after offboarding: %v", err)
		}
		msgs, err := db.MessagesAfter(ctx, g1.ID, 0, 10)
		must(t, err)
		if len(msgs) != 1 || msgs[0].SenderID != leaver.ID {
			t.Fatalf("history = %+v", msgs)
		}
		marks, _ := db.ReadMarkers(ctx, g1.ID)
		if _, ok := marks[leaver.ID]; ok {
			t.Error("the leaver's read marker stayed")
		}

		u, err := db.UserByID(ctx, leaver.ID)
		must(t, err)
		if u.Status != parley.UserDisabled || u.DisabledBy != admin.ID || u.DisabledReason != "left the company" ||
			!u.DisabledAt.Equal(t0.Add(time.Hour)) || u.TOTPSecretSealed != nil || u.MFAEnrolled || !slices.Equal(u.Roles, []parley.Role{parley.RoleUser}) {
			t.Fatalf("leaver = %+v", u)
		}
		if n, _ := db.CountWebAuthnCredentials(ctx, leaver.ID); n != 0 {
			t.Error("passkey kept")
		}
		if n, _ := db.CountWebAuthnCredentials(ctx, b.ID); n != 1 {
			t.Error("another user's passkey removed")
		}
		wantCode(t, db.ConsumeRecoveryCode(ctx, leaver.ID, []byte("h1")), parley.CodeNotFound)
		if list, _ := db.Contacts(ctx, leaver.ID); len(list) != 0 {
			t.Error("code address kept")
		}
		if ok, _ := db.LoginSourceSince(ctx, leaver.ID, "192.0.2.1", t0); ok {
			t.Error("login source kept")
		}
		wantCode(t, func() error { _, err := db.ServiceTokenByHash(ctx, []byte("hash-1")); return err }(), parley.CodeNotFound)

		_, err = db.OffboardUser(ctx, parley.Offboarding{UserID: leaver.ID, At: t0, By: admin.ID})
		wantCode(t, err, parley.CodeConflict)
		_, err = db.OffboardUser(ctx, parley.Offboarding{UserID: "u_nobody", At: t0, By: admin.ID})
		wantCode(t, err, parley.CodeNotFound)
	})
}

// TestReactivateUser: a disabled account becomes active with a new hash
// whose change time is zero (to be replaced), the old hash in the
// history, the inactivity clock restarted and a passed end date cleared.
func TestReactivateUser(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "back")
		future := createUser(t, db, "future")
		must(t, db.SetUserEndDate(ctx, u.ID, t0.Add(time.Hour)))
		must(t, db.SetUserEndDate(ctx, future.ID, t0.Add(1000*time.Hour)))
		wantCode(t, db.ReactivateUser(ctx, u.ID, "new-hash", t0, 5), parley.CodeConflict) // active
		must(t, db.DisableUser(ctx, u.ID, t0.Add(2*time.Hour), "", "expired"))
		must(t, db.DisableUser(ctx, future.ID, t0, "", "x"))
		at := t0.Add(3 * time.Hour)
		must(t, db.ReactivateUser(ctx, u.ID, "new-hash", at, 5))
		must(t, db.ReactivateUser(ctx, future.ID, "new-hash-2", at, 5))
		got, err := db.UserByID(ctx, u.ID)
		must(t, err)
		if got.Status != parley.UserActive || got.PasswordHash != "new-hash" || !got.PasswordChangedAt.IsZero() ||
			!got.LastLoginAt.Equal(at) || !got.EndAt.IsZero() || !got.DisabledAt.IsZero() || got.DisabledReason != "" {
			t.Fatalf("reactivated = %+v", got)
		}
		hist, err := db.PasswordHistory(ctx, u.ID, 5)
		must(t, err)
		if !slices.Equal(hist, []string{u.PasswordHash}) {
			t.Fatalf("history = %v", hist)
		}
		if got, _ := db.UserByID(ctx, future.ID); !got.EndAt.Equal(t0.Add(1000 * time.Hour)) {
			t.Fatalf("a future end date was cleared: %v", got.EndAt)
		}
		wantCode(t, db.ReactivateUser(ctx, u.ID, "again", at, 5), parley.CodeConflict)
		wantCode(t, db.ReactivateUser(ctx, "u_nobody", "x", at, 5), parley.CodeNotFound)
	})
}

// TestLapsedUsers: accounts past their end date or unused since the
// cut-off (last login, or creation if never), active ones only.
func TestLapsedUsers(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := t0.Add(100 * 24 * time.Hour)
		cut := now.Add(-parley.InactivityLimit)
		createUser(t, db, "never", parley.RoleUser) // created at t0, before the cut
		recent := createUser(t, db, "recent", parley.RoleUser)
		must(t, db.TouchLastLogin(ctx, recent.ID, now.Add(-time.Hour)))
		old := createUser(t, db, "old", parley.RoleUser)
		must(t, db.TouchLastLogin(ctx, old.ID, cut.Add(-time.Minute)))
		ended := createUser(t, db, "ended", parley.RoleUser)
		must(t, db.TouchLastLogin(ctx, ended.ID, now))
		must(t, db.SetUserEndDate(ctx, ended.ID, now))
		later := createUser(t, db, "later", parley.RoleUser)
		must(t, db.TouchLastLogin(ctx, later.ID, now))
		must(t, db.SetUserEndDate(ctx, later.ID, now.Add(time.Second)))
		gone := createUser(t, db, "gone", parley.RoleUser)
		must(t, db.DisableUser(ctx, gone.ID, t0, "", "x"))

		list, err := db.LapsedUsers(ctx, cut, now, 100)
		must(t, err)
		var names []string
		for _, u := range list {
			names = append(names, u.Username)
			if len(u.Roles) == 0 {
				t.Errorf("%s: roles not loaded", u.Username)
			}
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"ended", "never", "old"}) {
			t.Fatalf("lapsed = %v", names)
		}
		if list, _ := db.LapsedUsers(ctx, cut, now, 1); len(list) != 1 {
			t.Fatalf("limit 1 gave %d", len(list))
		}

		a1 := createUser(t, db, "a1", parley.RoleUser, parley.RoleSystemAdmin)
		createUser(t, db, "a2", parley.RoleUser, parley.RoleSystemAdmin)
		n, err := db.CountActiveHolders(ctx, parley.RoleSystemAdmin)
		must(t, err)
		must(t, db.DisableUser(ctx, a1.ID, t0, "", "x"))
		m, _ := db.CountActiveHolders(ctx, parley.RoleSystemAdmin)
		if n != 2 || m != 1 {
			t.Fatalf("active system admins: %d then %d", n, m)
		}
	})
}

// TestServiceTokens: tokens are found by hash only, listed per account,
// bounded per account, deleted only by their own account (another's is
// not_found), touched together with the account's last use, and swept
// when expired.
func TestServiceTokens(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		bot := createUser(t, db, "bot")
		other := createUser(t, db, "other")
		tok := func(id string, exp time.Time) *parley.ServiceToken {
			return &parley.ServiceToken{ID: id, UserID: bot.ID, Name: "job " + id, TokenHash: []byte("hash-" + id),
				CreatedBy: other.ID, CreatedAt: t0, ExpiresAt: exp}
		}
		must(t, db.CreateServiceToken(ctx, tok("st_a", t0.Add(time.Hour)), 2))
		must(t, db.CreateServiceToken(ctx, tok("st_b", t0.Add(2*time.Hour)), 2))
		wantCode(t, db.CreateServiceToken(ctx, tok("st_c", t0.Add(time.Hour)), 2), parley.CodeConflict)
		orphan := tok("st_d", t0)
		orphan.UserID = "u_nobody"
		wantCode(t, db.CreateServiceToken(ctx, orphan, 2), parley.CodeNotFound)

		got, err := db.ServiceTokenByHash(ctx, []byte("hash-st_a"))
		must(t, err)
		if got.ID != "st_a" || got.UserID != bot.ID || got.Name != "job st_a" || got.CreatedBy != other.ID ||
			!got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(time.Hour)) || !got.LastUsedAt.IsZero() {
			t.Fatalf("token = %+v", got)
		}
		_, err = db.ServiceTokenByHash(ctx, []byte("hash-st_x"))
		wantCode(t, err, parley.CodeNotFound)

		must(t, db.TouchServiceToken(ctx, "st_a", bot.ID, t0.Add(time.Minute)))
		got, _ = db.ServiceTokenByHash(ctx, []byte("hash-st_a"))
		u, _ := db.UserByID(ctx, bot.ID)
		if !got.LastUsedAt.Equal(t0.Add(time.Minute)) || !u.LastLoginAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("touch: token %v, account %v", got.LastUsedAt, u.LastLoginAt)
		}

		list, err := db.ListServiceTokens(ctx, bot.ID)
		must(t, err)
		if len(list) != 2 || list[0].ID != "st_a" || list[1].ID != "st_b" {
			t.Fatalf("list = %+v", list)
		}
		wantCode(t, db.DeleteServiceToken(ctx, other.ID, "st_a"), parley.CodeNotFound)
		must(t, db.DeleteServiceToken(ctx, bot.ID, "st_a"))
		wantCode(t, db.DeleteServiceToken(ctx, bot.ID, "st_a"), parley.CodeNotFound)

		n, err := db.DeleteExpiredServiceTokens(ctx, t0.Add(2*time.Hour))
		must(t, err)
		if n != 0 {
			t.Fatalf("a token expiring at now was swept")
		}
		n, _ = db.DeleteExpiredServiceTokens(ctx, t0.Add(2*time.Hour+time.Nanosecond))
		if list, _ := db.ListServiceTokens(ctx, bot.ID); n != 1 || len(list) != 0 {
			t.Fatalf("sweep removed %d, left %d", n, len(list))
		}
	})
}
