package securitytest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// Payloads of the injection classes. Each must either be refused with 400
// or be stored and returned exactly, as inert JSON text.
var (
	sqlPayloads = []string{
		`' OR '1'='1`, `admin'--`, `"; DROP TABLE users;--`, `1); DELETE FROM messages;--`,
		`' UNION SELECT username, password_hash FROM users--`, `%' OR '%'='`,
		`1' AND pg_sleep(3) IS NULL--`, `' || (SELECT sqlite_version()) || '`, "x\x00' OR '1'='1",
	}
	xssPayloads = []string{
		`<script>alert(1)</script>`, `"><img src=x onerror=alert(document.cookie)>`, `javascript:alert(1)`,
		`<svg/onload=alert(1)>`, `</textarea><iframe srcdoc="<script>parent.alert(1)</script>">`, `{{7*7}}${7*7}`,
	}
	headerPayloads = []string{
		"x\r\nX-Injected: 1", "x\r\n\r\n<html>smuggled</html>", "x\nSet-Cookie: sid=evil", "x%0d%0aX-Injected:%201",
	}
	logPayloads = []string{
		"x\r\nlevel=ERROR msg=\"forged entry\"", "\x1b[31mRED\x1b[0m\x1b]0;pwned\x07", "x\n{\"level\":\"ERROR\",\"msg\":\"forged\"}",
		"line\u2028sep\u2029para\u0085nel",
	}
)

func init() {
	register("Injection: SQL, XSS, header and log injection",
		scenario{ID: "I3", Name: "SQL-injection-in-every-string-field", Needs: accounts | isolated,
			Attack: "SQL payloads in every string field, path and query parameter of every operation of the OpenAPI document: 400 or stored as text, never 500, no delay from sleep payloads",
			Run:    func(t *testing.T, e *env) { sweep(t, e, "sql", sqlPayloads) }},
		scenario{ID: "I3", Name: "SQL-injection-in-every-string-field-on-PostgreSQL", Needs: accounts | isolated | inProcess,
			Options: func(t *testing.T) []parleytest.ServerOption {
				return []parleytest.ServerOption{parleytest.WithDSN(parleytest.NewPostgresDSN(t))} // skips without PostgreSQL
			},
			Attack: "The SQL sweep against a server on PostgreSQL (skipped unless PARLEY_TEST_POSTGRES_DSN is set, as in CI): same outcome as on SQLite",
			Run:    func(t *testing.T, e *env) { sweep(t, e, "sql", sqlPayloads) }},
		scenario{ID: "I3", Name: "stored-XSS-in-every-string-field", Needs: accounts | isolated,
			Attack: "XSS payloads in every string field and parameter of every operation: 400 or stored, never reflected unescaped (no raw '<' in any answer), always application/json with nosniff",
			Run:    func(t *testing.T, e *env) { sweep(t, e, "xss", xssPayloads) }},
		scenario{ID: "I3", Name: "header-injection-CRLF-in-every-string-field", Needs: accounts | isolated,
			Attack: "CR/LF payloads in every string field and parameter of every operation: no injected header or cookie in any answer, never 500",
			Run:    func(t *testing.T, e *env) { sweep(t, e, "header", headerPayloads) }},
		scenario{ID: "I3", Name: "log-injection-CRLF-ANSI-in-every-string-field", Needs: accounts | isolated,
			Attack: "CR/LF, ANSI escape and Unicode line-separator payloads in every string field and parameter: never 500; the server log keeps one line per entry and no raw control byte",
			Run:    func(t *testing.T, e *env) { sweep(t, e, "log", logPayloads) }},
		scenario{ID: "I3", Name: "SQL-payloads-stored-as-text", Needs: accounts,
			Attack: "Store SQL payloads as message bodies, a title, a display name and a department name: read back byte for byte; the other data intact",
			Run:    func(t *testing.T, e *env) { storedExactly(t, e, sqlPayloads) }},
		scenario{ID: "I3", Name: "stored-XSS-returned-as-inert-JSON", Needs: accounts,
			Attack: "Store XSS payloads in message bodies, titles, names: returned exactly, JSON-escaped (no raw '<'), over REST and in WebSocket frames",
			Run:    func(t *testing.T, e *env) { storedExactly(t, e, xssPayloads) }},
		scenario{ID: "I3", Name: "SQL-injection-in-login-and-setup", Needs: accounts | isolated,
			Attack: "SQL payloads as username and password of login and setup: never a session (no authentication bypass), never 500",
			Run:    sqlLogin},
		scenario{ID: "I3", Name: "SQL-injection-and-LIKE-wildcards-in-directory-search", Needs: accounts,
			Attack: "Search the directory with SQL payloads and LIKE wildcards: no user matches that does not contain the text",
			Run:    sqlSearch},
		scenario{ID: "I3", Name: "header-injection-CRLF-and-controls-in-User-Agent", Needs: accounts,
			Attack: "Raw requests with CR, LF, NUL and ESC inside the User-Agent: refused by the HTTP layer; a non-ASCII User-Agent is shown as valid, escaped JSON in the session list",
			Run:    headerInjectionUA},
		scenario{ID: "I3", Name: "log-injection-CRLF-ANSI-in-username", Needs: accounts | throttles,
			Attack: "Log in with usernames holding CR/LF, ANSI escapes and forged log lines: the audit record keeps them as escaped data, the server log has no forged line",
			Run:    logInjectionUsername},
		scenario{ID: "I3", Name: "response-splitting-via-Host-and-path", Needs: 0,
			Attack: "Percent-encoded CR/LF in the path and a hostile Host header: no injected header, the error shape, no reflection in headers",
			Run:    responseSplitting},
	)
}

// ---- the OpenAPI-driven sweep -------------------------------------------------

// sweeper sends payloads into every string input of every operation.
type sweeper struct {
	t       *testing.T
	e       *env
	doc     *openAPIDoc
	class   string
	callers map[string]*account // permission → caller (nil: anonymous)
	ids     map[string]string   // path parameter → a real ID
	bob     string
	credPW  string // the credentials caller's password: a sweep may change it
	n       int
	status  map[int]int
}

func sweep(t *testing.T, e *env, class string, payloads []string) {
	doc, ops := e.openAPI(t)
	sw := &sweeper{t: t, e: e, doc: doc, class: class, status: map[int]int{}}
	sw.prepare()
	logMark := 0
	if e.textLog != nil {
		logMark = len(e.textLog.String())
	}
	covered := 0
	for _, op := range ops {
		if op.Path == "/api/v1/ws" {
			continue // frames: see the WebSocket scenarios
		}
		body := sw.sample(schema{Ref: "#/components/schemas/" + op.Body}, "")
		fields := stringFields(sw.doc, op.Body)
		params := pathParams(op.Path)
		if len(fields) == 0 && len(params) == 0 && op.Path != "/api/v1/users" {
			continue
		}
		caller, ok := sw.callers[op.Perm]
		if !ok {
			// A permission added since this table was written: the system
			// admin tries it (a 403 still proves nothing broke).
			t.Logf("%s %s: permission %q has no caller in the sweep; trying the system admin", op.Method, op.Path, op.Perm)
			caller = e.admin(t)
		}
		sw.ready(op.Perm, caller)
		token := ""
		if caller != nil {
			token = caller.Token()
		}
		covered++
		for _, p := range payloads {
			for _, f := range fields {
				b := sw.sample(schema{Ref: "#/components/schemas/" + op.Body}, "")
				setField(b, f, p)
				sw.send(op, fillPath(op.Path, sw.ids), token, b, p)
			}
			for _, name := range params {
				ids := map[string]string{}
				for k, v := range sw.ids {
					ids[k] = v
				}
				ids[name], ids[op.Path[:strings.Index(op.Path, "{"+name+"}")]+"{"+name+"}"] = p, p
				sw.send(op, fillPath(op.Path, ids), token, body, p)
			}
			if op.Path == "/api/v1/users" && op.Method == "GET" {
				sw.send(op, op.Path+"?q="+url.QueryEscape(p), token, nil, p)
				sw.send(op, op.Path+"?limit="+url.QueryEscape(p), token, nil, p)
			}
		}
	}
	t.Logf("%s sweep: %d operations, %d requests, statuses %v", class, covered, sw.n, sw.status)
	if covered < 10 {
		t.Fatalf("only %d operations swept", covered)
	}
	if class == "log" && e.textLog != nil {
		checkLogs(t, e, logMark)
	}
}

// ready gets the caller of an operation through what stands before the
// handler: in-process, a public operation (login, setup, one-time codes)
// starts with a full rate-limit bucket, so that payloads reach the handler
// rather than a 429; a sensitive one gets a fresh step-up (A6).
func (sw *sweeper) ready(perm string, caller *account) {
	t, e := sw.t, sw.e
	switch {
	case perm == "public" && e.srv != nil:
		e.cooldown(t)
	case perm == "self.credentials":
		if err := e.wait429(t, func() error {
			_, err := caller.StepUp(ctx(t), "password", "", sw.credPW)
			return err
		}); err != nil {
			t.Fatalf("step-up: %v", err)
		}
	case perm == "security.policy" || perm == "users.unlock":
		e.stepUp(t, caller)
	}
}

func (sw *sweeper) prepare() {
	t, e := sw.t, sw.e
	user := e.fresh(t, "sweeper")
	cred := e.fresh(t, "sweepcred")
	sw.credPW = password
	admin, aud, sec := e.admin(t), e.auditor(t), e.secAdmin(t)
	sw.bob = e.user(t, "bob").ID
	conv, err := user.CreateConversation(ctx(t), "group", []string{sw.bob}, "sweep")
	if err != nil {
		t.Fatal(err)
	}
	sw.callers = map[string]*account{
		"public": nil, "self": user, "self.credentials": cred,
		"conversations.create": user, "conversations.read": user, "messages.send": user,
		"messages.read": user, "directory.read": user,
		"users.create": admin, "departments.manage": admin, "users.unlock": admin,
		"audit.read": aud, "security.policy": sec,
	}
	sw.ids = map[string]string{
		"/api/v1/conversations/{id}": conv, "/api/v1/departments/{id}": e.dept(t, "Engineering"),
		"/api/v1/users/{id}": sw.bob, "channel": "email", "id": "x_unknown",
	}
}

// stringFields lists the string inputs of a body schema: "name" for a
// string property, "name[]" for an array of strings.
func stringFields(doc *openAPIDoc, name string) []string {
	s, ok := doc.Components.Schemas[name]
	if !ok {
		return nil
	}
	var out []string
	for prop, ps := range s.Properties {
		switch {
		case ps.Type == "string":
			out = append(out, prop)
		case ps.Type == "array" && ps.Items != nil && ps.Items.Type == "string":
			out = append(out, prop+"[]")
		}
	}
	slices.Sort(out)
	return out
}

func pathParams(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "{") {
			out = append(out, strings.Trim(seg, "{}"))
		}
	}
	return out
}

func setField(b any, f, v string) {
	m, ok := b.(map[string]any)
	if !ok {
		return
	}
	if name, isArray := strings.CutSuffix(f, "[]"); isArray {
		m[name] = []string{v}
		return
	}
	m[f] = v
}

// sample builds a plausible value of a schema, with realistic values for
// the fields that need them so the payload reaches the handler's logic.
func (sw *sweeper) sample(s schema, field string) any {
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		if name == "" {
			return nil
		}
		s = sw.doc.Components.Schemas[name]
	}
	switch s.Type {
	case "object":
		m := map[string]any{}
		for prop, ps := range s.Properties {
			m[prop] = sw.sample(ps, prop)
		}
		return m
	case "string":
		switch field {
		case "username":
			return sw.e.unique("swept")
		case "current_password":
			return sw.credPW
		case "password", "new_password":
			return password
		case "display_name", "title", "name":
			return "Swept " + sw.e.unique("n")
		case "client_msg_id":
			return sw.e.unique("cm")
		case "type":
			return "group"
		case "method":
			return "totp"
		case "channel":
			return "email"
		}
		return "x"
	case "integer":
		return 0
	case "boolean":
		return false
	case "array":
		if field == "member_ids" {
			return []string{sw.bob}
		}
		return []any{}
	}
	return nil
}

func (sw *sweeper) send(op operation, path, token string, body any, payload string) {
	t := sw.t
	t.Helper()
	var data []byte
	if op.Body != "" && body != nil {
		data = jsonBody(t, body)
	}
	start := time.Now()
	r := sw.e.do(t, req{method: op.Method, path: path, token: token, body: data})
	d := time.Since(start)
	if m, ok := body.(map[string]any); ok && r.Status/100 == 2 && op.Path == "/api/v1/auth/password" {
		if pw, ok := m["new_password"].(string); ok {
			sw.credPW = pw // the payload was a good password, and is now cred's
		}
	}
	sw.n++
	sw.status[r.Status]++
	what := fmt.Sprintf("%s %s with %q", op.Method, op.Path, truncate(payload, 40))
	if strings.Contains(payload, "sleep") && d > 2500*time.Millisecond {
		t.Errorf("%s took %v: time-based SQL injection?", what, d)
	}
	if bytes.ContainsRune(r.Body, '<') {
		t.Errorf("%s: raw '<' in the answer (unescaped reflection): %s", what, r)
	}
	for k := range r.Header {
		if strings.EqualFold(k, "X-Injected") {
			t.Errorf("%s: injected header in the answer: %v", what, r.Header)
		}
	}
	if !utf8.Valid(r.Body) {
		t.Errorf("%s: answer is not valid UTF-8", what)
	}
	if op.Path == "/api/v1/auth/login" && r.Status == 200 && strings.Contains(string(r.Body), `"token"`) {
		t.Errorf("%s: a session from an injected login", what)
	}
}

// checkLogs fails if the server's log since mark holds a raw control byte
// or a line that a payload forged.
func checkLogs(t *testing.T, e *env, mark int) {
	t.Helper()
	for name, log := range map[string]string{"text": e.textLog.String(), "json": e.jsonLog.String()} {
		if name == "text" && mark <= len(log) {
			log = log[mark:]
		}
		for i, line := range strings.Split(log, "\n") {
			if strings.ContainsAny(line, "\r\x1b\x07\u2028\u2029\u0085") {
				t.Errorf("%s log line %d holds a raw control character: %.200q", name, i, line)
			}
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, `level=ERROR msg="forged`) || strings.HasPrefix(trimmed, `{"level":"ERROR","msg":"forged"`) {
				t.Errorf("%s log: forged line %q", name, line)
			}
			if name == "json" && trimmed != "" && !json.Valid([]byte(trimmed)) {
				t.Errorf("json log line %d is not one JSON object: %.200q", i, line)
			}
		}
	}
}

// ---- stored exactly ------------------------------------------------------------

func storedExactly(t *testing.T, e *env, payloads []string) {
	alice, bob, admin := e.user(t, "alice"), e.user(t, "bob"), e.admin(t)
	conv := e.conversation(t, "alice-bob")
	usersBefore, err := admin.Users(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	bws := e.mustWS(t, bob.Token())
	for i, p := range payloads {
		id := e.unique("inj")
		if strings.ContainsRune(p, 0) { // NUL is refused outright (I2), never stored
			_, err := alice.Send(ctx(t), conv, id, p)
			if !client.IsCode(err, "invalid") {
				t.Fatalf("send %q: %v, want invalid", p, err)
			}
			continue
		}
		res, err := alice.Send(ctx(t), conv, id, p)
		if err != nil {
			t.Fatalf("send %q: %v", p, err)
		}
		// Over the WebSocket the frame is escaped JSON, the body exact.
		for {
			_, data, err := bws.Read(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.ContainsRune(data, '<') {
				t.Fatalf("raw '<' in a frame: %q", data)
			}
			var f wire.ServerFrame
			_ = json.Unmarshal(data, &f)
			if f.Type == "message" && f.MessageID == res.MessageID {
				if f.Body != p {
					t.Fatalf("frame body %q, sent %q", f.Body, p)
				}
				break
			}
		}
		r := e.do(t, req{method: "GET", path: fmt.Sprintf("/api/v1/conversations/%s/messages?after_seq=%d&limit=1", conv, res.Seq-1), token: bob.Token()})
		var ml wire.MessageList
		if err := json.Unmarshal(r.Body, &ml); err != nil || len(ml.Messages) != 1 || ml.Messages[0].Body != p {
			t.Fatalf("history returned %s for %q", r, p)
		}
		if bytes.ContainsRune(r.Body, '<') {
			t.Fatalf("raw '<' in history: %s", r)
		}
		if i > 1 {
			continue // names: the first two payloads suffice
		}
		title := truncate(p, 100)
		gid, err := alice.CreateConversation(ctx(t), "group", []string{bob.ID}, title)
		if err != nil {
			t.Fatalf("title %q refused: %v", title, err)
		}
		list, _ := bob.Conversations(ctx(t))
		if !slices.ContainsFunc(list, func(c wire.Conversation) bool { return c.ConversationID == gid && c.Title == title }) {
			t.Fatalf("title %q not stored exactly", title)
		}
		uname := e.unique("named")
		if _, err := admin.CreateUser(ctx(t), wire.CreateUserRequest{Username: uname, DisplayName: title, Password: password}); err != nil {
			t.Fatalf("display name %q refused: %v", title, err)
		}
		found, _ := alice.Users(ctx(t), uname)
		if len(found) != 1 || found[0].DisplayName != title {
			t.Fatalf("display name stored as %+v", found)
		}
		d, err := admin.CreateDepartment(ctx(t), wire.CreateDepartmentRequest{Name: title + e.unique(" ")})
		if err != nil {
			t.Fatalf("department name %q refused: %v", title, err)
		}
		if !slices.ContainsFunc(departmentsOf(t, alice), func(x wire.Department) bool { return x.DepartmentID == d.DepartmentID && x.Name == d.Name }) {
			t.Fatalf("department %q not stored exactly", d.Name)
		}
	}
	usersAfter, err := admin.Users(ctx(t), "")
	if err != nil || len(usersAfter) < len(usersBefore) {
		t.Fatalf("users before %d, after %d (%v)", len(usersBefore), len(usersAfter), err)
	}
	if n := historyLen(t, e, bob, conv); n < len(payloads)+1 {
		t.Fatalf("history has %d messages", n)
	}
}

func sqlLogin(t *testing.T, e *env) {
	alice := e.user(t, "alice")
	admin := e.admin(t)
	names := append([]string{admin.Username + "'--", admin.Username + "' OR '1'='1", alice.Username + `"--`}, sqlPayloads...)
	for _, n := range names {
		for _, pw := range []string{"x", `' OR '1'='1`, password} {
			r := e.loginRaw(t, n, pw, nil)
			if r.Status != 401 && r.Status != 400 && r.Status != 429 {
				t.Errorf("login %q/%q: %s", n, pw, r)
			}
		}
	}
	for _, tok := range sqlPayloads {
		r := e.do(t, req{method: "POST", path: "/api/v1/setup", body: jsonBody(t, wire.SetupRequest{SetupToken: tok, Username: "root" + e.suffix, Password: password, DisplayName: "Root"})})
		if r.Status != 401 && r.Status != 400 && r.Status != 429 {
			t.Errorf("setup with token %q: %s", tok, r)
		}
	}
}

func sqlSearch(t *testing.T, e *env) {
	alice := e.user(t, "alice")
	all, err := alice.Users(ctx(t), "")
	if err != nil || len(all) < 3 {
		t.Fatalf("search all: %d, %v", len(all), err)
	}
	for _, q := range append([]string{"%", "_", "%%", "\\", "[a-z]", "*"}, sqlPayloads...) {
		r := e.do(t, req{method: "GET", path: "/api/v1/users?q=" + url.QueryEscape(q), token: alice.Token()})
		if r.Status == 400 {
			continue
		}
		var ul wire.UserList
		if err := json.Unmarshal(r.Body, &ul); err != nil || r.Status != 200 {
			t.Fatalf("q=%q: %s", q, r)
		}
		for _, u := range ul.Users {
			if !strings.Contains(strings.ToLower(u.Username), strings.ToLower(q)) && !strings.Contains(strings.ToLower(u.DisplayName), strings.ToLower(q)) {
				t.Errorf("q=%q matched %+v", q, u)
			}
		}
	}
}

// rawTLS sends raw bytes over a TLS connection and returns the answer's
// status line and the rest (bounded).
func (e *env) rawTLS(t *testing.T, payload string) (status string, rest string) {
	t.Helper()
	cfg := e.tlsConfig()
	cfg.NextProtos = []string{"http/1.1"}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", e.host, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, payload); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	status, _ = br.ReadString('\n')
	data, _ := io.ReadAll(io.LimitReader(br, 1<<16))
	return strings.TrimSpace(status), string(data)
}

func headerInjectionUA(t *testing.T, e *env) {
	u := e.fresh(t, "uaagent")
	body := string(jsonBody(t, wire.LoginRequest{Username: u.Username, Password: password}))
	for _, ua := range []string{"evil\rX-Injected: 1", "evil\x00", "evil\x1b[31m", "evil\x7f", "evil\nX-Injected: 1"} {
		status, rest := e.rawTLS(t, "POST /api/v1/auth/login HTTP/1.1\r\nHost: "+e.host+"\r\nUser-Agent: "+ua+
			"\r\nContent-Type: application/json\r\nContent-Length: "+fmt.Sprint(len(body))+"\r\nConnection: close\r\n\r\n"+body)
		if strings.Contains(rest, "X-Injected") {
			t.Errorf("User-Agent %q: the injected header came back: %.300q", ua, rest)
		}
		// A bare LF ends a header line (the client just sent two
		// headers); every other control byte makes the request invalid.
		if !strings.Contains(ua, "\n") && (!strings.HasPrefix(status, "HTTP/1.1 400") || strings.Contains(rest, `"token"`)) {
			t.Errorf("User-Agent %q: %q %.200q", ua, status, rest)
		}
	}
	// A User-Agent with bytes that are not UTF-8 and a bidi override is
	// stored (truncated) and shown as valid JSON.
	ua := "Mozilla/5.0 \xff\xfe \u202egnp.exe " + strings.Repeat("A", 600)
	c := e.newClient(t, "")
	hr, _ := http.NewRequest("POST", e.url+"/api/v1/auth/login", strings.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("User-Agent", ua)
	resp, err := e.http1.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkInvariants(t, "login with a binary User-Agent", &reply{Status: resp.StatusCode, Header: resp.Header, Body: data})
	var lr wire.LoginResponse
	if resp.StatusCode != 200 || json.Unmarshal(data, &lr) != nil || lr.Token == "" {
		t.Fatalf("login with a binary User-Agent: %d %q", resp.StatusCode, data)
	}
	c.SetToken(lr.Token)
	r := e.do(t, req{method: "GET", path: "/api/v1/sessions", token: lr.Token})
	if r.Status != 200 || !utf8.Valid(r.Body) || bytes.ContainsAny(r.Body, "\r\x1b") {
		t.Fatalf("session list: %s", r)
	}
	var sl wire.SessionList
	_ = json.Unmarshal(r.Body, &sl)
	for _, s := range sl.Sessions {
		if len(s.UserAgent) > 300 {
			t.Errorf("user agent stored untruncated (%d bytes)", len(s.UserAgent))
		}
	}
}

func logInjectionUsername(t *testing.T, e *env) {
	mark := e.auditMark(t)
	logMark := 0
	if e.textLog != nil {
		logMark = len(e.textLog.String())
	}
	for _, p := range logPayloads {
		r := e.loginRaw(t, p, "Wrong-Password-1!", map[string]string{"User-Agent": "ua-" + fmt.Sprint(len(p))})
		if r.Status != 401 && r.Status != 429 {
			t.Errorf("login as %q: %s", p, r)
		}
	}
	// The auditor's view: the trail is JSON, the names are data.
	raw := e.do(t, req{method: "GET", path: fmt.Sprintf("/api/v1/audit?after_seq=%d&limit=1000", mark), token: e.auditor(t).Token()})
	if raw.Status != 200 {
		t.Fatalf("audit: %s", raw)
	}
	if bytes.ContainsAny(raw.Body, "\r\x1b\x07") || bytes.Contains(raw.Body, []byte("\u2028")) {
		t.Fatalf("raw control characters in the audit answer: %.300q", raw.Body)
	}
	if n := bytes.Count(bytes.TrimSpace(raw.Body), []byte("\n")); n != 0 {
		t.Fatalf("the audit answer spans %d lines", n+1)
	}
	var al wire.AuditList
	if err := json.Unmarshal(raw.Body, &al); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, rec := range al.Records {
		if rec.Action != "auth.login" {
			continue
		}
		for _, p := range logPayloads {
			if rec.ActorName == p || (rec.ActorName != "" && strings.HasPrefix(p, rec.ActorName)) {
				found++
			}
		}
	}
	if found < len(logPayloads)-1 {
		t.Errorf("only %d of %d injected names are in the trail as data", found, len(logPayloads))
	}
	if e.textLog != nil {
		checkLogs(t, e, logMark)
	}
}

func responseSplitting(t *testing.T, e *env) {
	for _, p := range []string{"/api/v1/nothing%0d%0aX-Injected:%201", "/api/v1/%0aSet-Cookie:%20a=b", "/api/v1/me%0d%0a%0d%0a<html>"} {
		r := e.do(t, req{method: "GET", path: p})
		if r.Status < 400 || r.Header.Get("X-Injected") != "" {
			t.Errorf("%s: %s %v", p, r, r.Header)
		}
	}
	status, rest := e.rawTLS(t, "GET /api/v1/nowhere HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
	if strings.Contains(rest, "evil.example") || !strings.Contains(status, "404") {
		t.Errorf("hostile Host: %q %.300q", status, rest)
	}
}
