package client

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/wire"
)

// TestUserEditShapes checks method, path, query and body of the directory
// entry calls: absent fields are left out (the server keeps them), an empty
// title is sent (it clears the title), and identifiers are escaped.
func TestUserEditShapes(t *testing.T) {
	type seen struct{ method, path, query, body string }
	var got seen
	var reply string
	_, c := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(b)}
		_, _ = io.WriteString(w, reply)
	}), WithToken("t"))
	ctx := context.Background()
	str := func(s string) *string { return &s }
	tests := []struct {
		name  string
		reply string
		call  func() error
		want  seen
	}{
		{"move and title", `{"user_id":"u2","username":"b","display_name":"B","department_id":"d2","title":"Boss"}`, func() error {
			u, err := c.UpdateUser(ctx, "u2", wire.UpdateUserRequest{DepartmentID: str("d2"), Title: str("Boss")})
			if err != nil {
				return err
			}
			return expect(u.Title, "Boss", nil)
		}, seen{"PATCH", "/api/v1/users/u2", "", `{"department_id":"d2","title":"Boss"}`}},
		{"clear title", `{"user_id":"u/2"}`, func() error {
			_, err := c.UpdateUser(ctx, "u/2", wire.UpdateUserRequest{Title: str("")})
			return err
		}, seen{"PATCH", "/api/v1/users/u%2F2", "", `{"title":""}`}},
		{"rename me", `{"user_id":"u1","display_name":"Ann B","roles":["user"]}`, func() error {
			me, err := c.UpdateMe(ctx, "Ann B")
			if err != nil {
				return err
			}
			return expect(me.DisplayName, "Ann B", nil)
		}, seen{"PATCH", "/api/v1/me", "", `{"display_name":"Ann B"}`}},
		{"department search", `{"users":[{"user_id":"u2"}]}`, func() error {
			u, err := c.UsersInDepartment(ctx, "d&1", "bo")
			return expect(len(u), 1, err)
		}, seen{"GET", "/api/v1/users", "department_id=d%261&q=bo", ""}},
		{"department only", `{"users":[]}`, func() error { _, err := c.UsersInDepartment(ctx, "d1", ""); return err },
			seen{"GET", "/api/v1/users", "department_id=d1", ""}},
	}
	for _, tt := range tests {
		got, reply = seen{}, tt.reply
		if err := tt.call(); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: sent %+v, want %+v", tt.name, got, tt.want)
		}
	}
	for _, bad := range []error{
		func() error { _, err := c.UpdateUser(ctx, "..", wire.UpdateUserRequest{}); return err }(),
		func() error { _, err := c.UsersInDepartment(ctx, "", ""); return err }(),
	} {
		if bad == nil {
			t.Error("an empty or dot identifier was accepted")
		}
	}
}
