package securitytest

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/wire"
)

func init() {
	register("Authorization: IDOR and privilege escalation",
		scenario{ID: "Z6", Name: "IDOR-history-other-users-conversation", Needs: accounts,
			Attack: "A user of another department reads the history of a conversation she is not in (after_seq, before_seq, limit): 404 not_found, no message content",
			Run:    idorHistory},
		scenario{ID: "Z6", Name: "IDOR-send-into-other-users-conversation", Needs: accounts,
			Attack: "Post a message into a foreign conversation over REST: 404, nothing stored (members' history unchanged)",
			Run:    idorSend},
		scenario{ID: "Z6", Name: "IDOR-move-read-marker-of-foreign-conversation", Needs: accounts,
			Attack: "Set a read marker in a foreign conversation: 404, the members' markers unchanged",
			Run:    idorMarkRead},
		scenario{ID: "Z6", Name: "IDOR-list-read-markers-of-foreign-conversation", Needs: accounts,
			Attack: "List the read markers of a foreign conversation: 404, nothing about the members",
			Run:    idorReadMarkers},
		scenario{ID: "Z6", Name: "IDOR-WebSocket-send-into-foreign-conversation", Needs: accounts,
			Attack: "Send a frame into a foreign conversation: error frame not_found, nothing stored, the connection lives",
			Run:    idorWSSend},
		scenario{ID: "Z6", Name: "IDOR-WebSocket-typing-in-foreign-conversation", Needs: accounts,
			Attack: "Send typing frames into a foreign conversation: error not_found and the members receive nothing",
			Run:    idorWSTyping},
		scenario{ID: "Z6", Name: "IDOR-WebSocket-read-receipt-in-foreign-conversation", Needs: accounts,
			Attack: "Send a read frame for a foreign conversation: error not_found, markers unchanged",
			Run:    idorWSRead},
		scenario{ID: "Z6", Name: "IDOR-WebSocket-sync-cursor-for-foreign-conversation", Needs: accounts,
			Attack: "Sync with a cursor naming a foreign conversation: error not_found then synced, no message frame",
			Run:    idorWSSync},
		scenario{ID: "Z6", Name: "IDOR-revoke-other-users-session", Needs: accounts,
			Attack: "DELETE /sessions/{id} with another user's session ID: 404, that session still works",
			Run:    idorRevokeSession},
		scenario{ID: "Z6", Name: "IDOR-foreign-and-nonexistent-IDs-answer-alike", Needs: accounts,
			Attack: "Compare the answers for a foreign and a nonexistent conversation ID on every conversation route: identical, so existence is not revealed",
			Run:    idorAlike},
		scenario{ID: "Z6", Name: "IDOR-conversation-list-shows-own-only", Needs: accounts,
			Attack: "List conversations as an outsider: the foreign conversation and its members do not appear",
			Run:    idorList},
		scenario{ID: "Z6", Name: "IDOR-path-parameter-tricks", Needs: accounts,
			Attack: "Reach a foreign conversation through encoded slashes, dot segments, wildcards, case changes and overlong IDs: 4xx, never data, never 500",
			Run:    idorPathTricks},
		scenario{ID: "Z1", Name: "privilege-escalation-user-creates-users", Needs: accounts,
			Attack: "An ordinary user calls POST /users (with and without roles): 403, nobody created, audited as api.denied",
			Run:    escUsersCreate},
		scenario{ID: "Z1", Name: "privilege-escalation-user-edits-departments", Needs: accounts,
			Attack: "An ordinary user creates, renames, moves and merges departments: 403, the tree unchanged, audited",
			Run:    escDepartments},
		scenario{ID: "Z5", Name: "privilege-escalation-audit-trail-read-by-non-auditors", Needs: accounts,
			Attack: "An ordinary user and the system admin read GET /audit: 403",
			Run:    escAudit},
		scenario{ID: "Z10", Name: "privilege-escalation-security-policy-by-user-and-system-admin", Needs: accounts,
			Attack: "An ordinary user and the system admin read and replace the password and MFA policies: 403 forbidden",
			Run:    escPolicy},
		scenario{ID: "Z1", Name: "mass-assignment-on-every-create-body", Needs: accounts,
			Attack: "Add roles, is_admin, department_id, sender_id, seq, created_by, id … to every create body: 400 naming the field, nothing stored",
			Run:    massAssignment},
		scenario{ID: "Z9", Name: "self-grant-of-roles", Needs: accounts,
			Attack: "A user tries every way to raise its own roles (create itself with roles, PATCH/PUT me, role routes): refused, roles unchanged",
			Run:    selfGrant},
		scenario{ID: "Z10", Name: "two-exclusive-admin-roles-in-one-grant", Needs: accounts,
			Attack: "Grant two of system_admin, security_admin and auditor to one person: 400 invalid, nobody created",
			Run:    twoExclusiveRoles},
		scenario{ID: "Z10", Name: "system-admin-grants-roles-after-bootstrap", Needs: accounts | isolated,
			Attack: "Once a security_admin exists, the setup system admin grants auditor: 403, audited as a denied user.create",
			Run:    grantAfterBootstrap},
		scenario{ID: "Z4", Name: "system-admin-reads-history-of-conversation-not-in", Needs: accounts,
			Attack: "The system admin reads a conversation it is not in over REST: 404, no content",
			Run:    sysadminHistory},
		scenario{ID: "Z4", Name: "system-admin-syncs-conversation-not-in-over-WebSocket", Needs: accounts,
			Attack: "The system admin syncs a conversation it is not in: error not_found, no message frame",
			Run:    sysadminSync},
		scenario{ID: "Z4", Name: "system-admin-read-markers-of-conversation-not-in", Needs: accounts,
			Attack: "The system admin reads and moves read markers of a conversation it is not in: 404",
			Run:    sysadminMarkers},
		scenario{ID: "Z4", Name: "system-admin-sends-or-types-into-conversation-not-in", Needs: accounts,
			Attack: "The system admin posts and types into a conversation it is not in (REST and WebSocket): refused, nothing stored or delivered",
			Run:    sysadminSend},
		scenario{ID: "Z1", Name: "every-protected-route-refuses-anonymous-callers", Needs: 0,
			Attack: "Call every non-public operation of the OpenAPI document without a token: 401 unauthenticated",
			Run:    everyRouteAnonymous},
		scenario{ID: "Z1", Name: "every-admin-route-refuses-ordinary-users", Needs: accounts,
			Attack: "Call every operation of an administrative permission (OpenAPI x-permission) as an ordinary user: 403, audited",
			Run:    everyAdminRouteUser},
	)
}

// outsider is carol (Finance) attacking alice and bob's conversation
// (Engineering).
func outsider(t *testing.T, e *env) (carol *account, conv string) {
	t.Helper()
	return e.user(t, "carol"), e.conversation(t, "alice-bob")
}

func noSecrets(t *testing.T, r *reply) {
	t.Helper()
	if strings.Contains(string(r.Body), "SECRET-") {
		t.Fatalf("message content leaked: %s", r)
	}
}

// historyLen is the number of messages a member sees.
func historyLen(t *testing.T, e *env, a *account, conv string) int {
	t.Helper()
	msgs, err := a.History(ctx(t), conv, 0, 200)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	return len(msgs)
}

func idorHistory(t *testing.T, e *env) {
	carol, conv := outsider(t, e)
	for _, q := range []string{"", "?after_seq=0", "?before_seq=100", "?after_seq=0&limit=200", "?before_seq=9223372036854775807"} {
		r := e.do(t, req{method: "GET", path: "/api/v1/conversations/" + conv + "/messages" + q, token: carol.Token()})
		expect(t, r, 404, "not_found")
		noSecrets(t, r)
	}
}

func idorSend(t *testing.T, e *env) {
	carol, conv := outsider(t, e)
	bob := e.user(t, "bob")
	n := historyLen(t, e, bob, conv)
	r := e.do(t, req{method: "POST", path: "/api/v1/conversations/" + conv + "/messages", token: carol.Token(),
		body: []byte(`{"client_msg_id":"idor-1","body":"INJECTED-BY-CAROL"}`)})
	expect(t, r, 404, "not_found")
	if got := historyLen(t, e, bob, conv); got != n {
		t.Fatalf("history grew from %d to %d", n, got)
	}
}

func markers(t *testing.T, a *account, conv string) []wire.ReadMarker {
	t.Helper()
	m, err := a.ReadMarkers(ctx(t), conv)
	if err != nil {
		t.Fatalf("read markers: %v", err)
	}
	return m
}

func idorMarkRead(t *testing.T, e *env) {
	carol, conv := outsider(t, e)
	alice := e.user(t, "alice")
	before := markers(t, alice, conv)
	for _, seq := range []string{"0", "1", "2"} {
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/conversations/" + conv + "/read", token: carol.Token(),
			body: []byte(`{"seq":` + seq + `}`)}), 404, "not_found")
	}
	if after := markers(t, alice, conv); !slices.Equal(before, after) {
		t.Fatalf("markers changed: %+v → %+v", before, after)
	}
}

func idorReadMarkers(t *testing.T, e *env) {
	carol, conv := outsider(t, e)
	r := e.do(t, req{method: "GET", path: "/api/v1/conversations/" + conv + "/read", token: carol.Token()})
	expect(t, r, 404, "not_found")
	if strings.Contains(string(r.Body), e.user(t, "alice").ID) {
		t.Fatalf("member IDs leaked: %s", r)
	}
}

func idorWSSend(t *testing.T, e *env) {
	carol, conv := outsider(t, e)
	bob := e.user(t, "bob")
	n := historyLen(t, e, bob, conv)
	ws := e.mustWS(t, carol.Token())
	wsWrite(t, ws, `{"type":"send","conversation_id":"`+conv+`","client_msg_id":"ws-idor","body":"INJECTED"}`)
	f, _ := wsNext(t, ws, "error")
	if f.Code != "not_found" || f.ClientMsgID != "ws-idor" {
		t.Fatalf("error frame %+v", f)
	}
	// The connection lives: a legitimate frame still works.
	wsWrite(t, ws, `{"type":"sync","cursors":{}}`)
	wsNext(t, ws, "synced")
	if got := historyLen(t, e, bob, conv); got != n {
		t.Fatalf("history grew from %d to %d", n, got)
	}
}

func idorWSTyping(t *testing.T, e *env) {
	carol, conv := outsider(t, e)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	victim := e.mustWS(t, alice.Token())
	attacker := e.mustWS(t, carol.Token())
	for i := 0; i < 3; i++ {
		wsWrite(t, attacker, `{"type":"typing","conversation_id":"`+conv+`"}`)
		if f, _ := wsNext(t, attacker, "error"); f.Code != "not_found" {
			t.Fatalf("error frame %+v", f)
		}
	}
	// Positive control: bob's typing reaches alice, and it is the first
	// frame she gets — nothing of carol's came before it.
	bws := e.mustWS(t, bob.Token())
	wsWrite(t, bws, `{"type":"typing","conversation_id":"`+conv+`"}`)
	f, skipped := wsNext(t, victim, "typing")
	if f.UserID != bob.ID || len(skipped) != 0 {
		t.Fatalf("alice got %+v after %+v", f, skipped)
	}
}

func idorWSRead(t *testing.T, e *env) {
	carol, conv := outsider(t, e)
	alice := e.user(t, "alice")
	before := markers(t, alice, conv)
	ws := e.mustWS(t, carol.Token())
	wsWrite(t, ws, `{"type":"read","conversation_id":"`+conv+`","seq":1}`)
	if f, _ := wsNext(t, ws, "error"); f.Code != "not_found" {
		t.Fatalf("error frame %+v", f)
	}
	if after := markers(t, alice, conv); !slices.Equal(before, after) {
		t.Fatalf("markers changed: %+v → %+v", before, after)
	}
}

// syncForeign syncs conv as a and fails on any message frame.
func syncForeign(t *testing.T, e *env, a *account, conv string) {
	t.Helper()
	ws := e.mustWS(t, a.Token())
	wsWrite(t, ws, `{"type":"sync","cursors":{"`+conv+`":0}}`)
	_, skipped := wsNext(t, ws, "synced")
	sawError := false
	for _, f := range skipped {
		switch {
		case f.Type == "message" || f.Body != "":
			t.Fatalf("message frame of a foreign conversation: %+v", f)
		case f.Type == "error" && f.Code == "not_found":
			sawError = true
		}
	}
	if !sawError {
		t.Fatalf("no not_found error frame before synced: %+v", skipped)
	}
}

func idorWSSync(t *testing.T, e *env) {
	carol, conv := outsider(t, e)
	syncForeign(t, e, carol, conv)
}

func idorRevokeSession(t *testing.T, e *env) {
	victim := e.fresh(t, "sessvictim")
	carol := e.user(t, "carol")
	list, err := victim.Sessions(ctx(t))
	if err != nil || len(list) == 0 {
		t.Fatalf("sessions: %v %v", list, err)
	}
	for _, s := range list {
		r := e.do(t, req{method: "DELETE", path: "/api/v1/sessions/" + url.PathEscape(s.SessionID), token: carol.Token()})
		expect(t, r, 404, "not_found")
	}
	if _, err := victim.Me(ctx(t)); err != nil {
		t.Fatalf("the victim's session was ended: %v", err)
	}
	// And carol's own session list never shows the victim's.
	mine, _ := carol.Sessions(ctx(t))
	for _, s := range mine {
		for _, v := range list {
			if s.SessionID == v.SessionID {
				t.Fatalf("carol sees the victim's session %s", v.SessionID)
			}
		}
	}
}

func idorAlike(t *testing.T, e *env) {
	carol, conv := outsider(t, e)
	ghost := "c_" + strings.Repeat("a", 26)
	for _, tmpl := range []req{
		{method: "GET", path: "/api/v1/conversations/%s/messages"},
		{method: "POST", path: "/api/v1/conversations/%s/messages", body: []byte(`{"client_msg_id":"alike","body":"x"}`)},
		{method: "GET", path: "/api/v1/conversations/%s/read"},
		{method: "POST", path: "/api/v1/conversations/%s/read", body: []byte(`{"seq":0}`)},
	} {
		a, b := tmpl, tmpl
		a.path, b.path = strings.Replace(tmpl.path, "%s", conv, 1), strings.Replace(tmpl.path, "%s", ghost, 1)
		a.token, b.token = carol.Token(), carol.Token()
		ra, rb := e.do(t, a), e.do(t, b)
		if ra.Status != rb.Status || string(ra.Body) != string(rb.Body) {
			t.Errorf("%s %s: foreign %s vs nonexistent %s", tmpl.method, tmpl.path, ra, rb)
		}
	}
}

func idorList(t *testing.T, e *env) {
	carol, conv := outsider(t, e)
	list, err := carol.Conversations(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.ConversationID == conv || slices.Contains(c.MemberIDs, e.user(t, "bob").ID) && !slices.Contains(c.MemberIDs, carol.ID) {
			t.Fatalf("carol's list shows %+v", c)
		}
	}
}

func idorPathTricks(t *testing.T, e *env) {
	carol, conv := outsider(t, e)
	for _, id := range []string{
		conv + "%2F..%2F..", "..%2F" + conv, "%2e%2e", ".", "*", "%25", strings.ToUpper(conv), conv + "%00",
		conv + "%20", "%20" + conv, conv + ";x", strings.Repeat("c", 5000), "c_%E2%80%AE", conv + "/..", "c_'%20OR%20'1'='1",
	} {
		for _, suffix := range []string{"/messages", "/read"} {
			r := e.do(t, req{method: "GET", path: "/api/v1/conversations/" + id + suffix, token: carol.Token(), redirectOK: true})
			// An unclean path (dot segments) is answered with the JSON
			// not_found, never with ServeMux's 307 and HTML body.
			if r.Status >= 300 && r.Status < 400 {
				t.Errorf("id %q%s: redirected to %q, want a JSON error", truncate(id, 40), suffix, r.Header.Get("Location"))
				continue
			}
			if r.Status >= 400 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("id %q%s: %d with Content-Type %q, want the JSON error shape", truncate(id, 40), suffix, r.Status, r.Header.Get("Content-Type"))
			}
			if r.Status == 200 || r.Status >= 500 {
				t.Errorf("id %q%s: %s", truncate(id, 40), suffix, r)
			}
			noSecrets(t, r)
		}
	}
}

func escUsersCreate(t *testing.T, e *env) {
	alice := e.user(t, "alice")
	mark := e.auditMark(t)
	for _, roles := range [][]string{nil, {"system_admin"}, {"security_admin"}, {"auditor"}} {
		name := e.unique("esc")
		r := e.do(t, req{method: "POST", path: "/api/v1/users", token: alice.Token(), body: jsonBody(t, wire.CreateUserRequest{
			Username: name, DisplayName: "Esc", Password: password, Roles: roles})})
		expect(t, r, 403, "forbidden")
		if users, _ := e.admin(t).Users(ctx(t), name); len(users) != 0 {
			t.Fatalf("%s was created", name)
		}
	}
	e.expectAudit(t, mark, "the denied user creation", func(r wire.AuditRecord) bool {
		return r.Action == "api.denied" && r.ActorID == alice.ID && strings.Contains(r.Target, "/api/v1/users")
	})
}

func departmentsOf(t *testing.T, a *account) []wire.Department {
	t.Helper()
	d, err := a.Departments(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func escDepartments(t *testing.T, e *env) {
	alice := e.user(t, "alice")
	eng, fin := e.dept(t, "Engineering"), e.dept(t, "Finance")
	before := departmentsOf(t, alice)
	mark := e.auditMark(t)
	for _, rq := range []req{
		{method: "POST", path: "/api/v1/departments", body: []byte(`{"name":"Shadow IT"}`)},
		{method: "PATCH", path: "/api/v1/departments/" + eng, body: []byte(`{"name":"Pwned"}`)},
		{method: "PATCH", path: "/api/v1/departments/" + fin, body: []byte(`{"parent_id":"` + eng + `"}`)},
		{method: "POST", path: "/api/v1/departments/" + fin + "/merge", body: []byte(`{"into":"` + eng + `"}`)},
	} {
		rq.token = alice.Token()
		expect(t, e.do(t, rq), 403, "forbidden")
	}
	after := departmentsOf(t, alice)
	if !slices.Equal(before, after) {
		t.Fatalf("departments changed: %+v → %+v", before, after)
	}
	e.expectAudit(t, mark, "the denied department change", func(r wire.AuditRecord) bool {
		return r.Action == "api.denied" && r.ActorID == alice.ID && strings.Contains(r.Target, "/departments")
	})
}

func escAudit(t *testing.T, e *env) {
	for _, a := range []*account{e.user(t, "alice"), e.admin(t)} {
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/audit?after_seq=0&limit=10", token: a.Token()}), 403, "forbidden")
	}
}

func escPolicy(t *testing.T, e *env) {
	for _, a := range []*account{e.user(t, "alice"), e.admin(t)} {
		for _, rq := range []req{
			{method: "GET", path: "/api/v1/policy/mfa"},
			{method: "PUT", path: "/api/v1/policy/mfa", body: []byte(`{"require_all":false,"departments":[]}`)},
			{method: "GET", path: "/api/v1/policy/password"},
			{method: "PUT", path: "/api/v1/policy/password", body: []byte(`{"preset":"nist"}`)},
		} {
			rq.token = a.Token()
			expect(t, e.do(t, rq), 403, "forbidden")
		}
	}
}

func massAssignment(t *testing.T, e *env) {
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	admin := e.admin(t)
	conv := e.conversation(t, "alice-bob-group")
	eng := e.dept(t, "Engineering")
	nConv := func() int {
		l, err := alice.Conversations(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	convsBefore, msgsBefore, deptsBefore := nConv(), historyLen(t, e, bob, conv), len(departmentsOf(t, alice))
	name := e.unique("mass")
	cases := []struct {
		who   *account
		path  string
		body  map[string]any
		extra []string
	}{
		{admin, "/api/v1/users", map[string]any{"username": name, "display_name": "M", "password": password},
			[]string{"is_admin", "admin", "role", "mfa_enrolled", "status", "user_id", "id", "password_hash", "created_at", "permissions"}},
		{alice, "/api/v1/conversations", map[string]any{"type": "group", "member_ids": []string{bob.ID}, "title": "mass"},
			[]string{"created_by", "conversation_id", "id", "department_id", "roles", "is_admin", "members", "classification", "last_seq"}},
		{alice, "/api/v1/conversations/" + conv + "/messages", map[string]any{"client_msg_id": "mass-1", "body": "mass"},
			[]string{"sender_id", "seq", "message_id", "sent_at", "conversation_id", "is_admin", "roles"}},
		{admin, "/api/v1/departments", map[string]any{"name": "Mass"},
			[]string{"department_id", "id", "created_by", "roles", "members", "is_admin"}},
		{alice, "/api/v1/conversations/" + conv + "/read", map[string]any{"seq": 0},
			[]string{"user_id", "conversation_id"}},
		{nil, "/api/v1/auth/login", map[string]any{"username": alice.Username, "password": password},
			[]string{"roles", "is_admin", "mfa_enrolled", "mfa_verified", "user_id", "session_id"}},
		{nil, "/api/v1/setup", map[string]any{"setup_token": "x", "username": "root", "password": password, "display_name": "Root"},
			[]string{"roles", "is_admin", "department_id"}},
		{admin, "/api/v1/departments/" + eng, map[string]any{"name": "Engineering" + e.suffix},
			[]string{"department_id", "members", "roles"}},
	}
	for _, c := range cases {
		for _, field := range c.extra {
			body := map[string]any{}
			for k, v := range c.body {
				body[k] = v
			}
			body[field] = true
			if field == "roles" || field == "permissions" || field == "members" {
				body[field] = []string{"system_admin"}
			}
			method := "POST"
			if strings.HasPrefix(c.path, "/api/v1/departments/") {
				method = "PATCH"
			}
			tok := ""
			if c.who != nil {
				tok = c.who.Token()
			}
			r := e.do(t, req{method: method, path: c.path, token: tok, body: jsonBody(t, body)})
			if r.Status != 400 || r.Err.Code != "invalid" || !strings.Contains(r.Err.Message, field) {
				t.Errorf("%s %s with %q: %s", method, c.path, field, r)
			}
		}
	}
	if users, _ := admin.Users(ctx(t), name); len(users) != 0 {
		t.Errorf("user %s created", name)
	}
	if nConv() != convsBefore || historyLen(t, e, bob, conv) != msgsBefore || len(departmentsOf(t, alice)) != deptsBefore {
		t.Errorf("something was stored")
	}
}

func selfGrant(t *testing.T, e *env) {
	alice := e.user(t, "alice")
	for _, rq := range []req{
		{method: "POST", path: "/api/v1/users", body: jsonBody(t, wire.CreateUserRequest{Username: alice.Username, DisplayName: "A", Password: password, Roles: []string{"system_admin"}})},
		{method: "PATCH", path: "/api/v1/me", body: []byte(`{"roles":["system_admin"]}`)},
		{method: "PUT", path: "/api/v1/me", body: []byte(`{"roles":["system_admin"]}`)},
		{method: "POST", path: "/api/v1/me", body: []byte(`{"roles":["system_admin"]}`)},
		{method: "PUT", path: "/api/v1/users/" + alice.ID + "/roles", body: []byte(`{"roles":["security_admin"]}`)},
		{method: "POST", path: "/api/v1/users/" + alice.ID + "/roles", body: []byte(`{"role":"auditor"}`)},
		{method: "PATCH", path: "/api/v1/users/" + alice.ID, body: []byte(`{"roles":["system_admin"]}`)},
	} {
		rq.token = alice.Token()
		if r := e.do(t, rq); r.Status < 400 {
			t.Errorf("%s %s: %s", rq.method, rq.path, r)
		}
	}
	me, err := alice.Me(ctx(t))
	if err != nil || !slices.Equal(me.Roles, []string{"user"}) {
		t.Fatalf("alice's roles now %+v (%v)", me, err)
	}
}

func twoExclusiveRoles(t *testing.T, e *env) {
	admin := e.admin(t)
	for _, roles := range [][]string{{"system_admin", "auditor"}, {"security_admin", "auditor"}, {"system_admin", "security_admin"},
		{"system_admin", "security_admin", "auditor"}, {"auditor", "superuser"}} {
		name := e.unique("twohats")
		r := e.do(t, req{method: "POST", path: "/api/v1/users", token: admin.Token(), body: jsonBody(t, wire.CreateUserRequest{
			Username: name, DisplayName: "Two Hats", Password: password, Roles: roles})})
		expect(t, r, 400, "invalid")
		if users, _ := admin.Users(ctx(t), name); len(users) != 0 {
			t.Fatalf("%v: %s was created", roles, name)
		}
	}
}

func grantAfterBootstrap(t *testing.T, e *env) {
	e.secAdmin(t)
	mark := e.auditMark(t)
	name := e.unique("late-auditor")
	r := e.do(t, req{method: "POST", path: "/api/v1/users", token: e.admin(t).Token(), body: jsonBody(t, wire.CreateUserRequest{
		Username: name, DisplayName: "Late", Password: password, Roles: []string{"auditor"}})})
	expect(t, r, 403, "forbidden")
	e.expectAudit(t, mark, "the denied grant", action("user.create", "denied"))
}

func sysadminHistory(t *testing.T, e *env) {
	conv := e.conversation(t, "alice-bob")
	admin := e.admin(t)
	for _, q := range []string{"", "?before_seq=1000", "?after_seq=0&limit=200"} {
		r := e.do(t, req{method: "GET", path: "/api/v1/conversations/" + conv + "/messages" + q, token: admin.Token()})
		if r.Status != 404 && r.Status != 403 {
			t.Fatalf("%s", r)
		}
		noSecrets(t, r)
	}
}

func sysadminSync(t *testing.T, e *env) {
	syncForeign(t, e, e.admin(t), e.conversation(t, "alice-bob"))
}

func sysadminMarkers(t *testing.T, e *env) {
	conv := e.conversation(t, "alice-bob")
	admin := e.admin(t)
	before := markers(t, e.user(t, "alice"), conv)
	for _, rq := range []req{
		{method: "GET", path: "/api/v1/conversations/" + conv + "/read"},
		{method: "POST", path: "/api/v1/conversations/" + conv + "/read", body: []byte(`{"seq":2}`)},
	} {
		rq.token = admin.Token()
		if r := e.do(t, rq); r.Status != 404 && r.Status != 403 {
			t.Fatalf("%s %s: %s", rq.method, rq.path, r)
		}
	}
	ws := e.mustWS(t, admin.Token())
	wsWrite(t, ws, `{"type":"read","conversation_id":"`+conv+`","seq":2}`)
	if f, _ := wsNext(t, ws, "error"); f.Code != "not_found" && f.Code != "forbidden" {
		t.Fatalf("error frame %+v", f)
	}
	if after := markers(t, e.user(t, "alice"), conv); !slices.Equal(before, after) {
		t.Fatalf("markers changed: %+v → %+v", before, after)
	}
}

func sysadminSend(t *testing.T, e *env) {
	conv := e.conversation(t, "alice-bob")
	admin, bob := e.admin(t), e.user(t, "bob")
	n := historyLen(t, e, bob, conv)
	r := e.do(t, req{method: "POST", path: "/api/v1/conversations/" + conv + "/messages", token: admin.Token(),
		body: []byte(`{"client_msg_id":"admin-1","body":"from the admin"}`)})
	if r.Status != 404 && r.Status != 403 {
		t.Fatalf("%s", r)
	}
	ws := e.mustWS(t, admin.Token())
	for _, f := range []string{
		`{"type":"send","conversation_id":"` + conv + `","client_msg_id":"admin-2","body":"x"}`,
		`{"type":"typing","conversation_id":"` + conv + `"}`,
	} {
		wsWrite(t, ws, f)
		if ef, _ := wsNext(t, ws, "error"); ef.Code != "not_found" && ef.Code != "forbidden" {
			t.Fatalf("error frame %+v", ef)
		}
	}
	if got := historyLen(t, e, bob, conv); got != n {
		t.Fatalf("history grew from %d to %d", n, got)
	}
}

// ---- route enumeration from the OpenAPI document ---------------------------

type operation struct {
	Method, Path, Perm string
	Body               string // schema name of the request body, "" if none
}

type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]schema `json:"schemas"`
	} `json:"components"`
}

type schema struct {
	Type                 string            `json:"type"`
	Ref                  string            `json:"$ref"`
	Properties           map[string]schema `json:"properties"`
	Items                *schema           `json:"items"`
	AdditionalProperties json.RawMessage   `json:"additionalProperties"`
}

// openAPI fetches the server's own OpenAPI document.
func (e *env) openAPI(t *testing.T) (*openAPIDoc, []operation) {
	t.Helper()
	return e.openAPIAt(t, "")
}

// openAPIAt reads the OpenAPI document a listener serves (base "" for the
// main one): with a management listener, each describes only its own
// operations (I6).
func (e *env) openAPIAt(t *testing.T, base string) (*openAPIDoc, []operation) {
	t.Helper()
	var r *reply
	if base == "" {
		r = e.do(t, req{method: "GET", path: "/api/v1/openapi.json"})
	} else {
		r = e.doAt(t, base, req{method: "GET", path: "/api/v1/openapi.json"})
	}
	if r.Status != 200 {
		t.Fatalf("openapi: %s", r)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	var ops []operation
	for path, methods := range doc.Paths {
		for m, raw := range methods {
			var op struct {
				Perm string `json:"x-permission"`
				Body struct {
					Content map[string]struct {
						Schema schema `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			o := operation{Method: strings.ToUpper(m), Path: path, Perm: op.Perm}
			if c, ok := op.Body.Content["application/json"]; ok {
				o.Body = strings.TrimPrefix(c.Schema.Ref, "#/components/schemas/")
			}
			ops = append(ops, o)
		}
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.Path+a.Method, b.Path+b.Method) })
	return &doc, ops
}

// fillPath replaces path parameters with IDs of the given map, or a
// placeholder.
func fillPath(p string, ids map[string]string) string {
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			return p
		}
		j := strings.IndexByte(p[i:], '}')
		name := p[i+1 : i+j]
		v, ok := ids[p[:i]+"{"+name+"}"]
		if !ok {
			v, ok = ids[name]
		}
		if !ok {
			v = "x_placeholder"
		}
		p = p[:i] + url.PathEscape(v) + p[i+j+1:]
	}
}

func everyRouteAnonymous(t *testing.T, e *env) {
	_, ops := e.openAPI(t)
	n := 0
	for _, op := range ops {
		if op.Perm == "public" {
			continue
		}
		var body []byte
		if op.Body != "" {
			body = []byte(`{}`)
		}
		r := e.do(t, req{method: op.Method, path: fillPath(op.Path, nil), body: body, http1: op.Path == "/api/v1/ws"})
		if r.Status != 401 || r.Err.Code != "unauthenticated" {
			t.Errorf("%s %s without a token: %s", op.Method, op.Path, r)
		}
		n++
	}
	if n < 15 {
		t.Fatalf("only %d protected operations in the OpenAPI document", n)
	}
}

// userPerms are the permissions of the built-in "user" role (Z2) and the
// public operations; every other permission is administrative.
var userPerms = []string{"public", "self", "self.credentials", "conversations.create", "conversations.read",
	"messages.send", "messages.read", "directory.read"}

func everyAdminRouteUser(t *testing.T, e *env) {
	_, ops := e.openAPI(t)
	alice := e.user(t, "alice")
	ids := map[string]string{"id": e.dept(t, "Engineering"), "/api/v1/users/{id}": e.user(t, "bob").ID, "channel": "email"}
	mark := e.auditMark(t)
	n := 0
	for _, op := range ops {
		if slices.Contains(userPerms, op.Perm) {
			continue
		}
		var body []byte
		if op.Body != "" {
			body = []byte(`{}`)
		}
		r := e.do(t, req{method: op.Method, path: fillPath(op.Path, ids), token: alice.Token(), body: body})
		if r.Status != 403 || r.Err.Code != "forbidden" {
			t.Errorf("%s %s as a user: %s", op.Method, op.Path, r)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d administrative operations in the OpenAPI document", n)
	}
	recs := e.auditAfter(t, mark)
	denied := 0
	for _, r := range recs {
		if r.Action == "api.denied" && r.ActorID == alice.ID {
			denied++
		}
	}
	if denied < n {
		t.Errorf("%d of %d refusals audited", denied, n)
	}
}
