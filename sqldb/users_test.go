package sqldb_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

// t0 has nanoseconds and a non-UTC zone: times must come back equal, in UTC.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

func wantCode(t *testing.T, err error, code parley.Code) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newUser(name string, roles ...parley.Role) *parley.User {
	return &parley.User{
		ID:                parley.NewUserID(),
		Username:          name,
		DisplayName:       "User " + name,
		Roles:             roles,
		Status:            parley.UserActive,
		PasswordHash:      "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		PasswordChangedAt: t0,
		CreatedAt:         t0,
	}
}

func createUser(t *testing.T, db *sqldb.DB, name string, roles ...parley.Role) *parley.User {
	t.Helper()
	u := newUser(name, roles...)
	must(t, db.CreateUser(context.Background(), u))
	return u
}

func TestUsers(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		dept := &parley.Department{ID: parley.NewDepartmentID(), Name: "Finance", CreatedAt: t0}
		must(t, db.CreateDepartment(ctx, dept))
		u := newUser("Alice", parley.RoleUser, parley.RoleAuditor)
		u.DepartmentID = dept.ID
		u.TOTPSecretSealed = []byte{1, 2, 3}
		must(t, db.CreateUser(ctx, u))

		want := *u
		want.PasswordChangedAt, want.CreatedAt = t0.UTC(), t0.UTC()
		slices.Sort(want.Roles)
		// Roles given without grants are stored as organisation-wide
		// grants made at creation by nobody (setup-style).
		for _, r := range want.Roles {
			want.Grants = append(want.Grants, parley.RoleGrant{UserID: u.ID, Role: r, GrantedAt: t0.UTC()})
		}
		for _, lookup := range []struct {
			name string
			get  func() (*parley.User, error)
		}{
			{"by id", func() (*parley.User, error) { return db.UserByID(ctx, u.ID) }},
			{"by username", func() (*parley.User, error) { return db.UserByUsername(ctx, "Alice") }},
			{"by username, other case", func() (*parley.User, error) { return db.UserByUsername(ctx, "aLICE") }},
		} {
			got, err := lookup.get()
			must(t, err)
			if !reflect.DeepEqual(got, &want) {
				t.Errorf("%s: got %+v, want %+v", lookup.name, got, &want)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("%s: CreatedAt not in UTC", lookup.name)
			}
		}

		// Usernames are unique case-insensitively; IDs are unique.
		wantCode(t, db.CreateUser(ctx, newUser("ALICE")), parley.CodeConflict)
		dupID := newUser("bob")
		dupID.ID = u.ID
		wantCode(t, db.CreateUser(ctx, dupID), parley.CodeConflict)
		// An unknown department is a missing reference.
		badDept := newUser("carol")
		badDept.DepartmentID = parley.NewDepartmentID()
		wantCode(t, db.CreateUser(ctx, badDept), parley.CodeNotFound)

		_, err := db.UserByID(ctx, parley.NewUserID())
		wantCode(t, err, parley.CodeNotFound)
		_, err = db.UserByUsername(ctx, "nobody")
		wantCode(t, err, parley.CodeNotFound)

		n, err := db.CountUsers(ctx)
		must(t, err)
		if n != 1 {
			t.Errorf("CountUsers = %d, want 1 (failed inserts must leave nothing)", n)
		}
	})
}

func TestListUsers(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		for _, name := range []string{"dave", "Bob", "alice", "carol_x", "carolyn"} {
			createUser(t, db, name, parley.RoleUser)
		}
		names := func(us []*parley.User) []string {
			var out []string
			for _, u := range us {
				out = append(out, u.Username)
				if len(u.Roles) != 1 {
					t.Errorf("%s: roles %v", u.Username, u.Roles)
				}
			}
			return out
		}
		for _, tc := range []struct {
			query string
			limit int
			want  []string
		}{
			{"", 10, []string{"alice", "Bob", "carol_x", "carolyn", "dave"}},
			{"", 2, []string{"alice", "Bob"}},
			{"CAROL", 10, []string{"carol_x", "carolyn"}},
			{"_", 10, []string{"carol_x"}}, // LIKE wildcards match literally
			{"%", 10, nil},
			{"user b", 10, []string{"Bob"}}, // display name
			{"zzz", 10, nil},
			{"", 0, nil},
		} {
			got, err := db.ListUsers(ctx, tc.query, tc.limit)
			must(t, err)
			if g := names(got); !slices.Equal(g, tc.want) {
				t.Errorf("ListUsers(%q, %d) = %v, want %v", tc.query, tc.limit, g, tc.want)
			}
		}
	})
}

func TestRolesAndCredentials(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		missing := parley.NewUserID()

		has, err := db.AnyUserWithRole(ctx, parley.RoleSecurityAdmin)
		must(t, err)
		if has {
			t.Error("AnyUserWithRole on an empty store")
		}
		admin := newUser("sec", parley.RoleSecurityAdmin)
		admin.Status = parley.UserDisabled
		must(t, db.CreateUser(ctx, admin))
		if has, _ = db.AnyUserWithRole(ctx, parley.RoleSecurityAdmin); has {
			t.Error("a disabled user counted")
		}
		createUser(t, db, "sec2", parley.RoleSecurityAdmin)
		if has, _ = db.AnyUserWithRole(ctx, parley.RoleSecurityAdmin); !has {
			t.Error("active security admin not found")
		}

		u := createUser(t, db, "erin")
		later := t0.Add(time.Hour)
		must(t, db.SetPasswordHash(ctx, u.ID, "new-hash", later))
		wantCode(t, db.SetPasswordHash(ctx, missing, "x", later), parley.CodeNotFound)
		got, err := db.UserByID(ctx, u.ID)
		must(t, err)
		if got.PasswordHash != "new-hash" || !got.PasswordChangedAt.Equal(later) {
			t.Errorf("password not updated: %q %v", got.PasswordHash, got.PasswordChangedAt)
		}

		must(t, db.SetTOTP(ctx, u.ID, []byte("sealed"), false))
		got, _ = db.UserByID(ctx, u.ID)
		if string(got.TOTPSecretSealed) != "sealed" || got.MFAEnrolled {
			t.Errorf("SetTOTP pending: %q %v", got.TOTPSecretSealed, got.MFAEnrolled)
		}
		must(t, db.SetTOTP(ctx, u.ID, []byte("sealed"), true))
		if got, _ = db.UserByID(ctx, u.ID); !got.MFAEnrolled {
			t.Error("SetTOTP did not confirm")
		}
		must(t, db.SetTOTP(ctx, u.ID, nil, false))
		if got, _ = db.UserByID(ctx, u.ID); got.TOTPSecretSealed != nil || got.MFAEnrolled {
			t.Errorf("SetTOTP(nil) left %q %v", got.TOTPSecretSealed, got.MFAEnrolled)
		}
		wantCode(t, db.SetTOTP(ctx, missing, nil, false), parley.CodeNotFound)
	})
}

func TestAdvanceTOTPStep(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "frank")
		for i, tc := range []struct {
			step int64
			want bool
		}{
			{100, true},
			{100, false}, // the same code again: replay
			{99, false},  // an older step
			{101, true},
			{50, false},
		} {
			ok, err := db.AdvanceTOTPStep(ctx, u.ID, tc.step)
			must(t, err)
			if ok != tc.want {
				t.Errorf("%d: AdvanceTOTPStep(%d) = %v, want %v", i, tc.step, ok, tc.want)
			}
		}
		got, _ := db.UserByID(ctx, u.ID)
		if got.TOTPLastStep != 101 {
			t.Errorf("TOTPLastStep = %d, want 101", got.TOTPLastStep)
		}
		_, err := db.AdvanceTOTPStep(ctx, parley.NewUserID(), 1)
		wantCode(t, err, parley.CodeNotFound)

		// Racing logins with the same code: exactly one wins.
		results := make(chan bool, 8)
		for range 8 {
			go func() {
				ok, err := db.AdvanceTOTPStep(ctx, u.ID, 200)
				if err != nil {
					t.Error(err)
				}
				results <- ok
			}()
		}
		wins := 0
		for range 8 {
			if <-results {
				wins++
			}
		}
		if wins != 1 {
			t.Errorf("%d concurrent uses of one step accepted, want 1", wins)
		}
	})
}

func TestRecoveryCodes(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := createUser(t, db, "grace")
		other := createUser(t, db, "heidi")
		must(t, db.ReplaceRecoveryCodes(ctx, u.ID, [][]byte{[]byte("h1"), []byte("h2")}))
		must(t, db.ReplaceRecoveryCodes(ctx, other.ID, [][]byte{[]byte("h3")}))

		must(t, db.ConsumeRecoveryCode(ctx, u.ID, []byte("h1")))
		wantCode(t, db.ConsumeRecoveryCode(ctx, u.ID, []byte("h1")), parley.CodeNotFound)   // used
		wantCode(t, db.ConsumeRecoveryCode(ctx, u.ID, []byte("h3")), parley.CodeNotFound)   // another user's
		wantCode(t, db.ConsumeRecoveryCode(ctx, u.ID, []byte("nope")), parley.CodeNotFound) // unknown

		// Replacing discards the old ones.
		must(t, db.ReplaceRecoveryCodes(ctx, u.ID, [][]byte{[]byte("h4")}))
		wantCode(t, db.ConsumeRecoveryCode(ctx, u.ID, []byte("h2")), parley.CodeNotFound)
		must(t, db.ConsumeRecoveryCode(ctx, u.ID, []byte("h4")))
		must(t, db.ConsumeRecoveryCode(ctx, other.ID, []byte("h3")))

		wantCode(t, db.ReplaceRecoveryCodes(ctx, parley.NewUserID(), [][]byte{[]byte("x")}), parley.CodeNotFound)
	})
}

func TestDepartments(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		root := &parley.Department{ID: parley.NewDepartmentID(), Name: "Root", CreatedAt: t0}
		child := &parley.Department{ID: parley.NewDepartmentID(), ParentID: root.ID, Name: "Audit", CreatedAt: t0.Add(time.Second)}
		must(t, db.CreateDepartment(ctx, root))
		must(t, db.CreateDepartment(ctx, child))
		wantCode(t, db.CreateDepartment(ctx, root), parley.CodeConflict)
		orphan := &parley.Department{ID: parley.NewDepartmentID(), ParentID: parley.NewDepartmentID(), Name: "X", CreatedAt: t0}
		wantCode(t, db.CreateDepartment(ctx, orphan), parley.CodeNotFound)

		got, err := db.DepartmentByID(ctx, child.ID)
		must(t, err)
		want := *child
		want.CreatedAt = child.CreatedAt.UTC()
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("DepartmentByID = %+v, want %+v", got, &want)
		}
		_, err = db.DepartmentByID(ctx, parley.NewDepartmentID())
		wantCode(t, err, parley.CodeNotFound)

		all, err := db.ListDepartments(ctx)
		must(t, err)
		var names []string
		for _, d := range all {
			names = append(names, d.Name)
		}
		if fmt.Sprint(names) != "[Audit Root]" {
			t.Errorf("ListDepartments = %v", names)
		}
	})
}

// TestUpdateUserProfile: titles are stored and read back; an update sets
// only the fields it names (the others, roles included, stay), keeps the
// display-name search key in step, and an unknown user or department
// changes nothing (M5).
func TestUpdateUserProfile(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		sales := &parley.Department{ID: parley.NewDepartmentID(), Name: "Sales", CreatedAt: t0}
		ops := &parley.Department{ID: parley.NewDepartmentID(), Name: "Ops", CreatedAt: t0}
		must(t, db.CreateDepartment(ctx, sales))
		must(t, db.CreateDepartment(ctx, ops))
		u := newUser("alice", parley.RoleUser, parley.RoleAuditor)
		u.DepartmentID, u.Title = sales.ID, "Account Manager"
		must(t, db.CreateUser(ctx, u))
		get := func() *parley.User {
			t.Helper()
			got, err := db.UserByID(ctx, u.ID)
			must(t, err)
			return got
		}
		if got := get(); got.Title != "Account Manager" {
			t.Fatalf("title after create = %q", got.Title)
		}
		str := func(s string) *string { return &s }
		dep := func(d parley.DepartmentID) *parley.DepartmentID { return &d }

		must(t, db.UpdateUserProfile(ctx, u.ID, parley.UserUpdate{DisplayName: str("Alice Ångström")}))
		got := get()
		if got.DisplayName != "Alice Ångström" || got.Title != "Account Manager" || got.DepartmentID != sales.ID || len(got.Roles) != 2 {
			t.Fatalf("after rename: %+v", got)
		}
		found, err := db.ListUsers(ctx, "ångström", 10)
		must(t, err)
		if len(found) != 1 || found[0].ID != u.ID {
			t.Fatalf("search by the new display name: %v", found)
		}
		if found, _ := db.ListUsers(ctx, "user alice", 10); len(found) != 0 {
			t.Fatalf("the old display name still matches: %v", found)
		}

		must(t, db.UpdateUserProfile(ctx, u.ID, parley.UserUpdate{DepartmentID: dep(ops.ID), Title: str("")}))
		got = get()
		if got.DepartmentID != ops.ID || got.Title != "" || got.DisplayName != "Alice Ångström" {
			t.Fatalf("after move: %+v", got)
		}

		before := get()
		wantCode(t, db.UpdateUserProfile(ctx, u.ID, parley.UserUpdate{DepartmentID: dep(parley.NewDepartmentID()), Title: str("x")}), parley.CodeNotFound)
		wantCode(t, db.UpdateUserProfile(ctx, parley.NewUserID(), parley.UserUpdate{Title: str("x")}), parley.CodeNotFound)
		if after := get(); !reflect.DeepEqual(after, before) {
			t.Fatalf("a refused update changed the user:\n%+v\n%+v", before, after)
		}
		// Nothing named: nothing changes, the user exists.
		must(t, db.UpdateUserProfile(ctx, u.ID, parley.UserUpdate{}))
	})
}

// TestListUsersInDepartment: a department's users with those of every
// sub-department, however deep, combined with the query and the limit;
// nobody from a sibling or the parent.
func TestListUsersInDepartment(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		dept := func(name string, parent parley.DepartmentID) parley.DepartmentID {
			d := &parley.Department{ID: parley.NewDepartmentID(), ParentID: parent, Name: name, CreatedAt: t0}
			must(t, db.CreateDepartment(ctx, d))
			return d.ID
		}
		root := dept("Org", "")
		eng := dept("Engineering", root)
		web := dept("Web", eng)
		edge := dept("Edge", web)
		sales := dept("Sales", root)
		empty := dept("Empty", root)
		for name, d := range map[string]parley.DepartmentID{"rita": root, "erin": eng, "walt": web, "wade": web, "eddy": edge, "sam": sales} {
			u := newUser(name, parley.RoleUser)
			u.DepartmentID = d
			must(t, db.CreateUser(ctx, u))
		}
		createUser(t, db, "nobody_", parley.RoleUser) // in no department
		for _, tc := range []struct {
			dept  parley.DepartmentID
			query string
			limit int
			want  []string
		}{
			{eng, "", 10, []string{"eddy", "erin", "wade", "walt"}},
			{web, "", 10, []string{"eddy", "wade", "walt"}},
			{edge, "", 10, []string{"eddy"}},
			{root, "", 10, []string{"eddy", "erin", "rita", "sam", "wade", "walt"}},
			{eng, "WA", 10, []string{"wade", "walt"}},
			{eng, "", 2, []string{"eddy", "erin"}},
			{eng, "_", 10, nil}, // literal underscore, matches nobody here
			{sales, "", 10, []string{"sam"}},
			{empty, "", 10, nil},
			{parley.NewDepartmentID(), "", 10, nil},
			{eng, "", 0, nil},
		} {
			got, err := db.ListUsersInDepartment(ctx, tc.dept, tc.query, tc.limit)
			must(t, err)
			var names []string
			for _, u := range got {
				names = append(names, u.Username)
				if len(u.Roles) != 1 {
					t.Errorf("%s: roles %v", u.Username, u.Roles)
				}
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("ListUsersInDepartment(%s, %q, %d) = %v, want %v", tc.dept, tc.query, tc.limit, names, tc.want)
			}
		}
	})
}
