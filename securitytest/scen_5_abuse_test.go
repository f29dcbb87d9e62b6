package securitytest

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/cmd/parleyd/node"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

func init() {
	register("Input abuse and resource exhaustion",
		scenario{ID: "I2", Name: "oversize-REST-bodies-413", Needs: accounts,
			Attack: "Bodies over 64 KiB on an authenticated and a public route, with and without Content-Length (chunked), and a message over 16 KiB: 413 too_large, nothing stored",
			Run:    oversizeBodies},
		scenario{ID: "I2", Name: "oversize-WebSocket-frame-1009", Needs: accounts,
			Attack: "Send a WebSocket frame over 64 KiB: closed with 1009, nothing stored",
			Run:    oversizeFrame},
		scenario{ID: "I1", Name: "WebSocket-message-flood-1008", Needs: accounts,
			Attack: "Flood a WebSocket with frames far above 100/s: closed with 1008, and far fewer messages stored than sent",
			Run:    wsFlood},
		scenario{ID: "I2", Name: "binary-WebSocket-frames-1003", Needs: accounts,
			Attack: "Send a binary frame (and a JSON body as binary): closed with 1003 unsupported data, nothing stored",
			Run:    binaryFrame},
		scenario{ID: "I2", Name: "WebSocket-frame-field-smuggling", Needs: accounts,
			Attack: "Frames with fields of another type (sync with a body, send with cursors, read with a body, unknown type, 1001 cursors): error invalid, the connection lives, nothing stored",
			Run:    frameSmuggling},
		scenario{ID: "I2", Name: "slowloris-header-drip", Needs: slow,
			Attack: "A raw TLS client sends request headers one byte every 500 ms: the server closes the connection within its header timeout (10 s) plus slack",
			Run:    slowloris},
		scenario{ID: "I2", Name: "slowloris-stalled-TLS-handshake", Needs: slow,
			Attack: "Open TCP connections to the HTTPS port and never start TLS: closed within the handshake timeout (10 s) plus slack",
			Run:    stalledHandshake},
		scenario{ID: "I2", Name: "oversize-request-headers-431", Needs: 0,
			Attack: "Request headers over 16 KiB (one huge header, many headers): 431 from the HTTP layer, the connection closed, nothing processed",
			Run:    oversizeHeaders},
		scenario{ID: "I2", Name: "malformed-JSON", Needs: accounts | throttles,
			Attack: "Truncated JSON, trailing data, comments, single quotes, NaN, a BOM, arrays, scalars, wrong types and null on every body type: 400 invalid, nothing stored",
			Run:    malformedJSON},
		scenario{ID: "I2", Name: "invalid-UTF-8-in-REST-and-WebSocket", Needs: accounts,
			Attack: "Invalid UTF-8 bytes, overlong encodings and lone surrogates in bodies and frames: 400 / error frame, nothing stored",
			Run:    invalidUTF8},
		scenario{ID: "I2", Name: "duplicate-JSON-keys", Needs: accounts | throttles,
			Attack: "Bodies and frames repeating a key with different values (parser differential: a proxy checks the first, Go used the last): 400 invalid, nothing stored",
			Run:    duplicateKeys},
		scenario{ID: "I2", Name: "huge-and-odd-numbers", Needs: accounts,
			Attack: "Integers beyond int64, exponents, fractions, negative zero and -1 in bodies, frames and query parameters: 400, never 500 or an overflowed value",
			Run:    hugeNumbers},
		scenario{ID: "I2", Name: "deeply-nested-JSON", Needs: accounts,
			Attack: "Bodies and frames nested 10 000 levels deep (arrays and objects): 400 or 413 at once, never 500 or a hang",
			Run:    deepNesting},
		scenario{ID: "I2", Name: "bidi-overrides-and-controls-in-names-and-titles", Needs: accounts,
			Attack: "Bidi overrides (Trojan Source), C0/C1 controls and NUL in display names, titles and department names: 400, nothing stored",
			Run:    bidiNames},
		scenario{ID: "I2", Name: "homoglyph-and-invisible-usernames", Needs: accounts | throttles,
			Attack: "Usernames with Cyrillic/Greek look-alikes, full-width letters, zero-width characters or combining marks (admin impersonation): 400, nobody created",
			Run:    homoglyphUsernames},
		scenario{ID: "I2", Name: "homoglyph-and-invisible-display-names-and-titles", Needs: accounts,
			Attack: "Display names, titles and department names that mix Latin with Cyrillic/Greek look-alikes in one word or hide zero-width characters: 400, nothing stored",
			Run:    homoglyphNames},
		scenario{ID: "I1", Name: "X-Forwarded-For-spoofing-does-not-dodge-rate-limits", Needs: accounts | isolated,
			Attack: "Rotate X-Forwarded-For (and X-Real-IP, Forwarded) on every failed login without a trusted proxy: still 429 for the one address",
			Run:    xffSpoofLimit},
		scenario{ID: "I1", Name: "X-Forwarded-For-spoofing-does-not-forge-audit-source", Needs: accounts | throttles,
			Attack: "A failed login with a spoofed X-Forwarded-For: the audit record's source is the real peer address, not the header",
			Run:    xffSpoofAudit},
		scenario{ID: "I1", Name: "X-Forwarded-For-honoured-only-from-trusted-proxy", Needs: accounts | isolated | inProcess,
			Options: func(*testing.T) []parleytest.ServerOption {
				// node.Options carries the proxy list (parleytest has no
				// option for it); the test sets it like parleyd's config.
				return []parleytest.ServerOption{func(o *node.Options) {
					o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
				}}
			},
			Attack: "Behind a configured trusted proxy (loopback): the rightmost untrusted X-Forwarded-For entry is the source; a client-prepended entry is ignored",
			Run:    xffTrusted},
	)
}

func oversizeBodies(t *testing.T, e *env) {
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, "alice-bob")
	n := historyLen(t, e, bob, conv)
	msgs := "/api/v1/conversations/" + conv + "/messages"
	huge := `{"client_msg_id":"big-1","body":"` + strings.Repeat("a", wire.MaxBodyBytes) + `"}`
	expect(t, e.do(t, req{method: "POST", path: msgs, token: alice.Token(), body: []byte(huge)}), 413, "too_large")
	expect(t, e.do(t, req{method: "POST", path: msgs, token: alice.Token(),
		body: []byte(`{"client_msg_id":"big-2","body":"` + strings.Repeat("a", wire.MaxMessageLen+1) + `"}`)}), 413, "too_large")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/auth/login",
		body: []byte(`{"username":"` + strings.Repeat("u", 70<<10) + `","password":"x"}`)}), 413, "too_large")
	// Chunked, no Content-Length, 1 MiB.
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, `{"client_msg_id":"big-3","body":"`)
		chunk := strings.Repeat("b", 32<<10)
		for i := 0; i < 32; i++ {
			if _, err := io.WriteString(pw, chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(pw, `"}`)
		_ = pw.Close()
	}()
	hr, _ := http.NewRequestWithContext(ctx(t), "POST", e.url+msgs, pr)
	hr.Header.Set("Authorization", "Bearer "+alice.Token())
	hr.Header.Set("Content-Type", "application/json")
	resp, err := e.http1.Do(hr)
	if err == nil {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := &reply{Status: resp.StatusCode, Header: resp.Header, Body: data}
		checkInvariants(t, "chunked", r)
		expect(t, r, 413, "too_large")
	}
	_ = pr.Close()
	if got := historyLen(t, e, bob, conv); got != n {
		t.Fatalf("history grew from %d to %d", n, got)
	}
}

func oversizeFrame(t *testing.T, e *env) {
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, "alice-bob")
	n := historyLen(t, e, bob, conv)
	ws := e.mustWS(t, alice.Token())
	big := `{"type":"send","conversation_id":"` + conv + `","client_msg_id":"big-ws","body":"` + strings.Repeat("a", wire.MaxFrameBytes) + `"}`
	_ = ws.Write(ctx(t), websocket.MessageText, []byte(big))
	if code := wsClosed(t, ws, 10*time.Second); code != websocket.StatusMessageTooBig {
		t.Fatalf("closed with %d, want 1009", code)
	}
	if got := historyLen(t, e, bob, conv); got != n {
		t.Fatalf("history grew from %d to %d", n, got)
	}
}

func wsFlood(t *testing.T, e *env) {
	u := e.fresh(t, "flooder")
	bob := e.user(t, "bob")
	conv, err := u.CreateConversation(ctx(t), "direct", []string{bob.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	ws := e.mustWS(t, u.Token())
	const sent = 3000
	go func() {
		for i := 0; i < sent; i++ {
			f := fmt.Sprintf(`{"type":"send","conversation_id":"%s","client_msg_id":"flood-%d","body":"flood %d"}`, conv, i, i)
			if ws.Write(ctx(t), websocket.MessageText, []byte(f)) != nil {
				return
			}
		}
	}()
	if code := wsClosed(t, ws, 20*time.Second); code != websocket.StatusPolicyViolation {
		t.Fatalf("flood closed with %d, want 1008", code)
	}
	msgs, err := bob.History(ctx(t), conv, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) >= 200 {
		msgs2, _ := bob.History(ctx(t), conv, 200, 200)
		if len(msgs2) > 100 {
			t.Fatalf("the flood stored %d+ of %d messages", 200+len(msgs2), sent)
		}
	}
}

func binaryFrame(t *testing.T, e *env) {
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, "alice-bob")
	n := historyLen(t, e, bob, conv)
	ws := e.mustWS(t, alice.Token())
	_ = ws.Write(ctx(t), websocket.MessageBinary, []byte(`{"type":"send","conversation_id":"`+conv+`","client_msg_id":"bin-1","body":"binary"}`))
	if code := wsClosed(t, ws, 10*time.Second); code != websocket.StatusUnsupportedData {
		t.Fatalf("closed with %d, want 1003", code)
	}
	if got := historyLen(t, e, bob, conv); got != n {
		t.Fatalf("history grew from %d to %d", n, got)
	}
}

func frameSmuggling(t *testing.T, e *env) {
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, "alice-bob")
	n := historyLen(t, e, bob, conv)
	ws := e.mustWS(t, alice.Token())
	var cursors strings.Builder
	cursors.WriteString(`{"type":"sync","cursors":{`)
	for i := 0; i <= wire.MaxSyncCursors; i++ {
		if i > 0 {
			cursors.WriteByte(',')
		}
		fmt.Fprintf(&cursors, `"c_%d":0`, i)
	}
	cursors.WriteString(`}}`)
	for _, f := range []string{
		`{"type":"sync","cursors":{},"body":"smuggled"}`,
		`{"type":"send","conversation_id":"` + conv + `","client_msg_id":"sm-1","body":"x","cursors":{"a":1}}`,
		`{"type":"send","conversation_id":"` + conv + `","client_msg_id":"sm-2","body":"x","seq":5}`,
		`{"type":"read","conversation_id":"` + conv + `","seq":1,"body":"x"}`,
		`{"type":"typing","conversation_id":"` + conv + `","client_msg_id":"sm-3"}`,
		`{"type":"message","conversation_id":"` + conv + `","body":"server-only type","sender_id":"` + bob.ID + `"}`,
		`{"type":"ack","client_msg_id":"x","message_id":"m","seq":1}`,
		`{"type":"send","conversation_id":"` + conv + `","client_msg_id":"sm-4","body":"x","sender_id":"` + bob.ID + `"}`,
		`{"conversation_id":"` + conv + `"}`,
		cursors.String(),
	} {
		wsWrite(t, ws, f)
		ef, skipped := wsNext(t, ws, "error")
		if ef.Code != "invalid" || len(skipped) != 0 {
			t.Errorf("frame %.80q: %+v after %+v", f, ef, skipped)
		}
	}
	wsWrite(t, ws, `{"type":"sync","cursors":{}}`)
	wsNext(t, ws, "synced")
	if got := historyLen(t, e, bob, conv); got != n {
		t.Fatalf("history grew from %d to %d", n, got)
	}
}

// slowloris drips a request's headers and measures when the server hangs
// up. Bounded: it gives up after the timeout plus 8 s.
func slowloris(t *testing.T, e *env) {
	cfg := e.tlsConfig()
	cfg.NextProtos = []string{"http/1.1"}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", e.host, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const limit = 10 * time.Second // httpapi's ReadHeaderTimeout
	start := time.Now()
	request := "GET /api/v1/me HTTP/1.1\r\nHost: " + e.host + "\r\nX-Slow: " + strings.Repeat("a", 200)
	closed := false
	for i := 0; i < len(request) && time.Since(start) < limit+8*time.Second; i++ {
		_ = conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := conn.Write([]byte{request[i]}); err != nil {
			closed = true
			break
		}
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		var b [512]byte
		n, err := conn.Read(b[:])
		if n > 0 || (err != nil && !isTimeout(err)) {
			closed = true // an answer (408/400) or a close: either way the server gave up
			break
		}
	}
	d := time.Since(start)
	if !closed {
		t.Fatalf("the server kept a dripping connection open for %v", d.Round(time.Second))
	}
	if d > limit+6*time.Second {
		t.Fatalf("the server gave up only after %v", d.Round(time.Second))
	}
	t.Logf("dripping connection closed after %v", d.Round(100*time.Millisecond))
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func stalledHandshake(t *testing.T, e *env) {
	const limit = 10 * time.Second
	start := time.Now()
	conns := make([]net.Conn, 5)
	for i := range conns {
		c, err := net.DialTimeout("tcp", e.host, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		_ = c.SetReadDeadline(start.Add(limit + 8*time.Second))
		var b [64]byte
		_, err := c.Read(b[:])
		if err != nil && isTimeout(err) {
			t.Fatalf("connection %d still open after %v without a handshake", i, time.Since(start).Round(time.Second))
		}
	}
	t.Logf("stalled connections closed after %v", time.Since(start).Round(100*time.Millisecond))
}

func oversizeHeaders(t *testing.T, e *env) {
	for name, hdr := range map[string]string{
		"one huge header": "X-Big: " + strings.Repeat("a", 20<<10) + "\r\n",
		"many headers":    strings.Repeat("X-Many: "+strings.Repeat("b", 100)+"\r\n", 250),
	} {
		status, rest := e.rawTLS(t, "GET /api/v1/me HTTP/1.1\r\nHost: "+e.host+"\r\n"+hdr+"Connection: close\r\n\r\n")
		if !strings.Contains(status, "431") && !strings.Contains(status, "400") {
			t.Errorf("%s: %q %.200q", name, status, rest)
		}
	}
}

// bodyCases are the requests of one kind of malformed input, on every body
// type the fixture can reach: a message, a conversation, a read marker, a
// login, a user, a department.
func (e *env) bodyTargets(t *testing.T) []req {
	t.Helper()
	alice, admin := e.user(t, "alice"), e.admin(t)
	conv := e.conversation(t, "alice-bob")
	return []req{
		{method: "POST", path: "/api/v1/conversations/" + conv + "/messages", token: alice.Token()},
		{method: "POST", path: "/api/v1/conversations", token: alice.Token()},
		{method: "POST", path: "/api/v1/conversations/" + conv + "/read", token: alice.Token()},
		{method: "POST", path: "/api/v1/auth/login"},
		{method: "POST", path: "/api/v1/users", token: admin.Token()},
		{method: "POST", path: "/api/v1/departments", token: admin.Token()},
	}
}

// snapshot counts what the attacks could have stored.
func (e *env) snapshot(t *testing.T) string {
	t.Helper()
	bob := e.user(t, "bob")
	convs, err := e.user(t, "alice").Conversations(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	users, err := e.admin(t).Users(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	e.dept(t, "Finance") // made on first use: not by the attack
	return fmt.Sprintf("convs=%d msgs=%d users=%d depts=%d", len(convs), historyLen(t, e, bob, e.conversation(t, "alice-bob")),
		len(users), len(departmentsOf(t, bob)))
}

func malformedJSON(t *testing.T, e *env) {
	before := e.snapshot(t)
	for _, target := range e.bodyTargets(t) {
		for _, body := range []string{
			`{"client_msg_id":"m1","body":`, `{"name":"x"} {"name":"y"}`, `{"name":"x"}garbage`, `// comment` + "\n" + `{"name":"x"}`,
			`{'name':'x'}`, `{"seq":NaN}`, `{"seq":Infinity}`, "\ufeff{\"name\":\"x\"}", `[{"name":"x"}]`, `"name"`, `42`, `null`, `true`,
			`{"name":["x"]}`, `{"member_ids":"u_1","type":"group"}`, `{"username":{"$ne":null},"password":{"$ne":null}}`, `{name:"x"}`,
			`{"name":"x",}`, `{"name" "x"}`, "{\"name\":\"x\"\x00}", `{"seq":"1"}`, `{"client_msg_id":["a"],"body":"b"}`,
		} {
			rq := target
			rq.body = []byte(body)
			r := e.do(t, rq)
			if r.Status != 400 || r.Err.Code != "invalid" {
				t.Errorf("%s %s with %.60q: %s", rq.method, rq.path, body, r)
			}
		}
	}
	if after := e.snapshot(t); after != before {
		t.Fatalf("stored something: %s → %s", before, after)
	}
}

func invalidUTF8(t *testing.T, e *env) {
	before := e.snapshot(t)
	conv := e.conversation(t, "alice-bob")
	for _, target := range e.bodyTargets(t) {
		for _, bad := range []string{"\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xe0\x80\xaf", "a\x80b", "\xf8\x88\x80\x80\x80"} {
			rq := target
			rq.body = []byte(`{"client_msg_id":"u8","body":"` + bad + `","name":"` + bad + `","username":"` + bad + `","password":"x"}`)
			if r := e.do(t, rq); r.Status != 400 {
				t.Errorf("%s %s with %q: %s", rq.method, rq.path, bad, r)
			}
		}
	}
	ws := e.mustWS(t, e.user(t, "alice").Token())
	for _, bad := range []string{"\xff", "\xc0\xaf", "\xed\xa0\x80"} {
		wsWrite(t, ws, `{"type":"send","conversation_id":"`+conv+`","client_msg_id":"u8ws","body":"`+bad+`"}`)
		if f, _ := wsNext(t, ws, "error"); f.Code != "invalid" {
			t.Errorf("frame with %q: %+v", bad, f)
		}
	}
	// JSON escapes of lone surrogates decode to U+FFFD: stored as that,
	// never as invalid UTF-8.
	if after := e.snapshot(t); after != before {
		t.Fatalf("stored something: %s → %s", before, after)
	}
}

func duplicateKeys(t *testing.T, e *env) {
	alice, bob, admin := e.user(t, "alice"), e.user(t, "bob"), e.admin(t)
	conv := e.conversation(t, "alice-bob")
	before := e.snapshot(t)
	for _, rq := range []req{
		{method: "POST", path: "/api/v1/conversations/" + conv + "/messages", token: alice.Token(),
			body: []byte(`{"client_msg_id":"dup-1","body":"harmless","body":"<script>alert(1)</script>"}`)},
		{method: "POST", path: "/api/v1/conversations/" + conv + "/messages", token: alice.Token(),
			body: []byte(`{"client_msg_id":"dup-2","client_msg_id":"dup-3","body":"x"}`)},
		{method: "POST", path: "/api/v1/conversations", token: alice.Token(),
			body: []byte(`{"type":"direct","type":"group","member_ids":["` + bob.ID + `"]}`)},
		{method: "POST", path: "/api/v1/users", token: admin.Token(),
			body: []byte(`{"username":"dupuser` + strings.TrimPrefix(e.suffix, "-") + `","display_name":"D","password":"` + password + `","roles":[],"roles":["auditor"]}`)},
		{method: "POST", path: "/api/v1/auth/login", body: []byte(`{"username":"nobody","username":"` + alice.Username + `","password":"` + password + `"}`)},
		{method: "POST", path: "/api/v1/departments", token: admin.Token(), body: []byte(`{"name":"A","name":"B"}`)},
		{method: "POST", path: "/api/v1/conversations/" + conv + "/read", token: alice.Token(), body: []byte(`{"seq":0,"seq":1}`)},
		{method: "POST", path: "/api/v1/conversations/" + conv + "/messages", token: alice.Token(),
			body: []byte(`{"client_msg_id":"dup-4","body":"x","BODY":"y"}`)},
	} {
		r := e.do(t, rq)
		if r.Status != 400 || r.Err.Code != "invalid" {
			t.Errorf("%s %s with %q: %s", rq.method, rq.path, rq.body, r)
		}
	}
	ws := e.mustWS(t, alice.Token())
	for _, f := range []string{
		`{"type":"typing","type":"send","conversation_id":"` + conv + `","client_msg_id":"dup-ws","body":"x"}`,
		`{"type":"send","conversation_id":"c_other","conversation_id":"` + conv + `","client_msg_id":"dup-ws2","body":"x"}`,
	} {
		wsWrite(t, ws, f)
		if ef, _ := wsNext(t, ws, "error"); ef.Code != "invalid" {
			t.Errorf("frame %q: %+v", f, ef)
		}
	}
	if after := e.snapshot(t); after != before {
		t.Fatalf("stored something: %s → %s", before, after)
	}
}

func hugeNumbers(t *testing.T, e *env) {
	alice := e.user(t, "alice")
	conv := e.conversation(t, "alice-bob")
	before := markers(t, alice, conv)
	read := "/api/v1/conversations/" + conv + "/read"
	for _, n := range []string{"9223372036854775808", "-9223372036854775809", "1e400", "1e3", "1.5", "-1",
		"99999999999999999999999999999999999999", "0x10", "1_000", "+1", "01", "\"1\"", "true", "[1]"} {
		r := e.do(t, req{method: "POST", path: read, token: alice.Token(), body: []byte(`{"seq":` + n + `}`)})
		if r.Status != 400 {
			t.Errorf("seq %s: %s", n, r)
		}
	}
	for _, q := range []string{"after_seq=9223372036854775808", "after_seq=-1", "limit=1e3", "before_seq=1.5", "limit=99999999999999999999",
		"after_seq=0x10", "limit=", "after_seq=1&after_seq=2", "limit=1%20", "after_seq=%E2%80%8B1"} {
		r := e.do(t, req{method: "GET", path: "/api/v1/conversations/" + conv + "/messages?" + q, token: alice.Token()})
		if r.Status != 400 {
			t.Errorf("?%s: %s", q, r)
		}
	}
	// The largest legal values are answered, not overflowed.
	for _, q := range []string{"after_seq=9223372036854775807", "before_seq=9223372036854775807"} {
		r := e.do(t, req{method: "GET", path: "/api/v1/conversations/" + conv + "/messages?" + q, token: alice.Token()})
		if r.Status != 200 {
			t.Errorf("?%s: %s", q, r)
		}
	}
	r := e.do(t, req{method: "POST", path: read, token: alice.Token(), body: []byte(`{"seq":9223372036854775807}`)})
	expect(t, r, 400, "invalid")
	ws := e.mustWS(t, alice.Token())
	for _, f := range []string{
		`{"type":"sync","cursors":{"` + conv + `":1e400}}`, `{"type":"read","conversation_id":"` + conv + `","seq":9223372036854775808}`,
		`{"type":"sync","cursors":{"` + conv + `":-1}}`,
	} {
		wsWrite(t, ws, f)
		if ef, _ := wsNext(t, ws, "error"); ef.Code != "invalid" {
			t.Errorf("frame %q: %+v", f, ef)
		}
	}
	if after := markers(t, alice, conv); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("markers changed: %+v → %+v", before, after)
	}
}

func deepNesting(t *testing.T, e *env) {
	alice := e.user(t, "alice")
	conv := e.conversation(t, "alice-bob")
	for name, body := range map[string]string{
		"arrays":  `{"body":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `,"client_msg_id":"deep"}`,
		"objects": strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
		"open":    strings.Repeat("[", 60000),
	} {
		start := time.Now()
		r := e.do(t, req{method: "POST", path: "/api/v1/conversations/" + conv + "/messages", token: alice.Token(), body: []byte(body)})
		if (r.Status != 400 && r.Status != 413) || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %s after %v", name, r, time.Since(start))
		}
	}
	ws := e.mustWS(t, alice.Token())
	wsWrite(t, ws, `{"type":"sync","cursors":`+strings.Repeat(`{"a":`, 5000)+"1"+strings.Repeat("}", 5001))
	if f, _ := wsNext(t, ws, "error"); f.Code != "invalid" {
		t.Errorf("deep frame: %+v", f)
	}
}

// nameTargets tries a name in every place that stores one and reports the
// places that accepted it.
func (e *env) nameTargets(t *testing.T, name string) (accepted []string) {
	t.Helper()
	alice, bob, admin := e.user(t, "alice"), e.user(t, "bob"), e.admin(t)
	if r := e.do(t, req{method: "POST", path: "/api/v1/users", token: admin.Token(), body: jsonBody(t, wire.CreateUserRequest{
		Username: e.unique("disp"), DisplayName: name, Password: password})}); r.Status != 400 {
		accepted = append(accepted, "display_name: "+r.String())
	}
	if r := e.do(t, req{method: "POST", path: "/api/v1/conversations", token: alice.Token(), body: jsonBody(t, wire.CreateConversationRequest{
		Type: "group", MemberIDs: []string{bob.ID}, Title: name})}); r.Status != 400 {
		accepted = append(accepted, "title: "+r.String())
	}
	if r := e.do(t, req{method: "POST", path: "/api/v1/departments", token: admin.Token(), body: jsonBody(t, wire.CreateDepartmentRequest{
		Name: name})}); r.Status != 400 {
		accepted = append(accepted, "department: "+r.String())
	}
	if r := e.do(t, req{method: "PATCH", path: "/api/v1/departments/" + e.dept(t, "Finance"), token: admin.Token(),
		body: jsonBody(t, map[string]string{"name": name})}); r.Status != 400 {
		accepted = append(accepted, "department rename: "+r.String())
	}
	return accepted
}

func bidiNames(t *testing.T, e *env) {
	before := e.snapshot(t)
	for _, n := range []string{"alice\u202Egnp.exe", "\u2066admin\u2069", "Bob\u200F", "x\u061Cy", "tab\there", "nl\nhere", "nul\x00here",
		"esc\x1b[31m", "c1\u0085here", "del\x7f"} {
		if acc := e.nameTargets(t, n); len(acc) > 0 {
			t.Errorf("%q accepted as %v", n, acc)
		}
	}
	if after := e.snapshot(t); after != before {
		t.Fatalf("stored something: %s → %s", before, after)
	}
}

func homoglyphUsernames(t *testing.T, e *env) {
	admin := e.admin(t)
	for _, n := range []string{"\u0430dmin", "\u0391dmin", "ａｄｍｉｎ", "ad\u200bmin", "admin\u0301", "\u0430lice", "adm\u0131n", "ad\u00admin", "admın"} {
		r := e.do(t, req{method: "POST", path: "/api/v1/users", token: admin.Token(), body: jsonBody(t, wire.CreateUserRequest{
			Username: n, DisplayName: "Look-alike", Password: password})})
		expect(t, r, 400, "invalid")
		if r := e.loginRaw(t, n, password, nil); r.Status == 200 {
			t.Fatalf("login as %q succeeded", n)
		}
	}
}

func homoglyphNames(t *testing.T, e *env) {
	for _, n := range []string{"\u0410dmin Team", "P\u0430yPal Support", "Syst\u0435m Administrator", "\u0391pple", "ad\u200bmin",
		"Security\u200d Team", "IT\ufeffDesk", "\u2060Helpdesk", "Fin\u00adance"} {
		if acc := e.nameTargets(t, n); len(acc) > 0 {
			t.Errorf("%q accepted as %v", n, acc)
		}
	}
	// Legitimate non-Latin names stay possible.
	for _, n := range []string{"Алексей Петров", "张伟 Zhang Wei", "Ελένη", "José Müller", "محمد", "山田 太郎"} {
		if acc := e.nameTargets(t, n); len(acc) != 4 {
			t.Errorf("legitimate name %q refused somewhere: accepted only %v", n, acc)
		}
	}
}

func xffSpoofLimit(t *testing.T, e *env) {
	victim := e.fresh(t, "xffvictim")
	var last *reply
	for i := 0; i < 40; i++ {
		ip := fmt.Sprintf("198.51.100.%d", i+1)
		last = e.loginRaw(t, e.unique("xff"), "Wrong-Password-1!", map[string]string{
			"X-Forwarded-For": ip, "X-Real-IP": ip, "Forwarded": "for=" + ip, "True-Client-IP": ip, "CF-Connecting-IP": ip})
		if last.Status == 429 {
			break
		}
	}
	expect(t, last, 429, "rate_limited")
	r := e.loginRaw(t, victim.Username, password, map[string]string{"X-Forwarded-For": "203.0.113.77"})
	expect(t, r, 429, "rate_limited")
}

func xffSpoofAudit(t *testing.T, e *env) {
	mark := e.auditMark(t)
	name := e.unique("xffaudit")
	e.loginRaw(t, name, "Wrong-Password-1!", map[string]string{"X-Forwarded-For": "203.0.113.66", "X-Real-IP": "203.0.113.67"})
	rec := e.expectAudit(t, mark, "the failed login", func(r wire.AuditRecord) bool {
		return r.Action == "auth.login" && r.ActorName == name
	})
	if strings.HasPrefix(rec.SourceIP, "203.0.113.") || rec.SourceIP == "" {
		t.Fatalf("audit source %q: taken from the spoofed header", rec.SourceIP)
	}
}

func xffTrusted(t *testing.T, e *env) {
	mark := e.auditMark(t)
	// Through the trusted proxy each client has its own bucket: 30
	// failures from 30 addresses are no flood.
	for i := 0; i < 30; i++ {
		r := e.loginRaw(t, e.unique("proxied"), "Wrong-Password-1!", map[string]string{"X-Forwarded-For": fmt.Sprintf("192.0.2.%d", i+1)})
		if r.Status != 401 {
			t.Fatalf("client %d behind the proxy: %s", i, r)
		}
	}
	name := e.unique("chain")
	e.loginRaw(t, name, "Wrong-Password-1!", map[string]string{"X-Forwarded-For": "6.6.6.6, 198.51.100.23"})
	rec := e.expectAudit(t, mark, "the proxied login", func(r wire.AuditRecord) bool {
		return r.Action == "auth.login" && r.ActorName == name
	})
	if rec.SourceIP != "198.51.100.23" {
		t.Fatalf("source %q, want the rightmost untrusted hop 198.51.100.23", rec.SourceIP)
	}
}
