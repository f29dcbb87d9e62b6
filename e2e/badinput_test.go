package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// raw is a plain HTTPS client for requests the SDK would never send.
type raw struct {
	t     *testing.T
	s     *parleytest.Server
	http  *http.Client
	token string
}

func newRaw(t *testing.T, s *parleytest.Server, token string) *raw {
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &raw{t: t, s: s, token: token, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}}
}

func (r *raw) do(method, path string, body []byte, hdr map[string]string) (int, wire.ErrorBody, http.Header) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.s.URL+path, bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var eb wire.ErrorBody
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(data, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			r.t.Fatalf("%s %s: status %d with body %q: not the API error shape", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, eb, resp.Header
}

// TestBadInputREST: every bad request gets a 4xx in the error shape of
// API-CORE.md and stores nothing (I2).
func TestBadInputREST(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		u := newCohort(ctx, t, s)
		conv, err := u.alice.CreateConversation(ctx, "direct", []string{u.bob.UserID}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.alice.Send(ctx, conv, "seed", "first"); err != nil {
			t.Fatal(err)
		}
		r := newRaw(t, s, u.alice.Token())
		msgs := "/api/v1/conversations/" + conv + "/messages"
		cases := []struct {
			name, method, path string
			body               []byte
			status             int
			code               string
		}{
			{"unknown field", "POST", msgs, []byte(`{"client_msg_id":"x1","body":"hi","admin":true}`), 400, "invalid"},
			{"wrong type", "POST", msgs, []byte(`{"client_msg_id":7,"body":"hi"}`), 400, "invalid"},
			{"malformed JSON", "POST", msgs, []byte(`{"client_msg_id":"x2","body":`), 400, "invalid"},
			{"trailing data", "POST", msgs, []byte(`{"client_msg_id":"x3","body":"hi"} {}`), 400, "invalid"},
			{"invalid UTF-8", "POST", msgs, []byte("{\"client_msg_id\":\"x4\",\"body\":\"\xff\xfe\"}"), 400, "invalid"},
			{"array body", "POST", msgs, []byte(`["x"]`), 400, "invalid"},
			{"empty body", "POST", msgs, nil, 400, "invalid"},
			{"empty message", "POST", msgs, []byte(`{"client_msg_id":"x5","body":""}`), 400, "invalid"},
			{"bad client_msg_id", "POST", msgs, []byte(`{"client_msg_id":"has space","body":"hi"}`), 400, "invalid"},
			{"oversize body", "POST", msgs, []byte(`{"client_msg_id":"x6","body":"` + strings.Repeat("a", wire.MaxBodyBytes) + `"}`), 413, "too_large"},
			{"oversize message", "POST", msgs, []byte(`{"client_msg_id":"x7","body":"` + strings.Repeat("a", wire.MaxMessageLen+1) + `"}`), 413, "too_large"},
			{"unknown query parameter", "GET", msgs + "?after_seq=0&debug=1", nil, 400, "invalid"},
			{"negative after_seq", "GET", msgs + "?after_seq=-1", nil, 400, "invalid"},
			{"limit too large", "GET", msgs + "?limit=100000", nil, 400, "invalid"},
			{"foreign conversation", "GET", "/api/v1/conversations/c_nope/messages", nil, 404, "not_found"},
			{"bad conversation type", "POST", "/api/v1/conversations", []byte(`{"type":"channel","member_ids":["` + u.bob.UserID + `"]}`), 400, "invalid"},
			{"unknown member", "POST", "/api/v1/conversations", []byte(`{"type":"direct","member_ids":["u_nobody"]}`), 404, "not_found"},
			{"wrong method", "DELETE", "/api/v1/conversations", nil, 400, "invalid"},
			{"unknown path", "GET", "/api/v1/nothing-here", nil, 404, "not_found"},
			{"user creation without permission", "POST", "/api/v1/users", []byte(`{"username":"mallory","display_name":"M","password":"` + parleytest.Password + `"}`), 403, "forbidden"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				status, eb, _ := r.do(c.method, c.path, c.body, nil)
				if status != c.status || eb.Error.Code != c.code {
					t.Fatalf("got %d %q (%s), want %d %q", status, eb.Error.Code, eb.Error.Message, c.status, c.code)
				}
			})
		}
		// Mass assignment: a field the operation does not take is refused,
		// even for a caller allowed to create users.
		status, eb, _ := newRaw(t, s, u.admin.Token()).do("POST", "/api/v1/users",
			[]byte(`{"username":"mallory","display_name":"M","password":"`+parleytest.Password+`","is_admin":true}`), nil)
		if status != 400 || eb.Error.Code != "invalid" || !strings.Contains(eb.Error.Message, "is_admin") {
			t.Fatalf("mass assignment: %d %+v", status, eb)
		}
		// Nothing was stored by any of them.
		hist, err := u.bob.History(ctx, conv, 0, 50)
		if err != nil || len(hist) != 1 {
			t.Fatalf("history after bad input = %d messages, %v; want 1", len(hist), err)
		}
		if users, _ := u.alice.Users(ctx, "mallory"); len(users) != 0 {
			t.Fatalf("mallory was created: %+v", users)
		}
	})
}

// TestAuthenticationFailures: missing, bogus, logged-out and idle-expired
// tokens are all 401 (A5).
func TestAuthenticationFailures(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	u := newCohort(ctx, t, s)
	for name, token := range map[string]string{"missing": "", "bogus": "not-a-token", "oversize": strings.Repeat("x", 4096)} {
		status, eb, hdr := newRaw(t, s, token).do("GET", "/api/v1/conversations", nil, nil)
		if status != 401 || eb.Error.Code != "unauthenticated" || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s token: %d %q", name, status, eb.Error.Code)
		}
	}
	// Idle timeout: 15 minutes without a user action ends the session.
	s.Clock.Advance(16 * time.Minute)
	_, err := u.alice.Conversations(ctx)
	expectCode(t, err, "unauthenticated")
	// Activity keeps a session alive.
	bob := s.Login(ctx, "bob")
	for i := 0; i < 3; i++ {
		s.Clock.Advance(10 * time.Minute)
		if _, err := bob.Me(ctx); err != nil {
			t.Fatalf("active session expired after %d×10 min: %v", i+1, err)
		}
	}
	if err := bob.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = bob.Me(ctx)
	expectCode(t, err, "unauthenticated")
}

// TestWebSocketAbuse: a bad frame gets an error frame and the connection
// lives; an oversize frame closes it with 1009; a foreign Origin and a
// missing token are refused before the upgrade.
func TestWebSocketAbuse(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	u := newCohort(ctx, t, s)
	conv, err := u.alice.CreateConversation(ctx, "direct", []string{u.bob.UserID}, "")
	if err != nil {
		t.Fatal(err)
	}
	ws := rawDial(ctx, t, s, u.alice.Token(), nil)
	for _, frame := range []string{`{"type":"send"`, `{"type":"launch"}`, `{"type":"send","conversation_id":"` + conv + `"}`,
		`{"type":"sync","cursors":{"x":-1}}`, "{\"type\":\"typing\",\"conversation_id\":\"\xff\"}"} {
		if err := ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		var f wire.ServerFrame
		readJSON(ctx, t, ws, &f)
		if f.Type != wire.FrameError || f.Code != "invalid" {
			t.Fatalf("frame %q answered %+v", frame, f)
		}
	}
	// A foreign conversation is not_found, and the connection still works.
	_ = ws.Write(ctx, websocket.MessageText, []byte(`{"type":"send","conversation_id":"c_nope","client_msg_id":"a","body":"x"}`))
	var f wire.ServerFrame
	readJSON(ctx, t, ws, &f)
	if f.Type != wire.FrameError || f.Code != "not_found" || f.ClientMsgID != "a" {
		t.Fatalf("foreign send answered %+v", f)
	}
	_ = ws.Write(ctx, websocket.MessageText, []byte(`{"type":"send","conversation_id":"`+conv+`","client_msg_id":"b","body":"still here"}`))
	readJSON(ctx, t, ws, &f)
	if f.Type != wire.FrameAck {
		t.Fatalf("after errors, send answered %+v", f)
	}
	// Oversize frame: closed with 1009.
	big := `{"type":"send","conversation_id":"` + conv + `","client_msg_id":"c","body":"` + strings.Repeat("a", wire.MaxFrameBytes) + `"}`
	_ = ws.Write(ctx, websocket.MessageText, []byte(big))
	_, _, err = ws.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
		t.Fatalf("oversize frame: close status %d (%v), want 1009", got, err)
	}

	// Foreign Origin: refused with 403 before any upgrade (I4).
	_, resp, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https")+"/api/v1/ws", dialOpts(t, s, u.alice.Token(),
		http.Header{"Origin": {"https://evil.example"}}))
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("foreign origin: %v, %v", resp, err)
	}
	// Same Origin is fine.
	okws := rawDial(ctx, t, s, u.alice.Token(), http.Header{"Origin": {s.URL}})
	_ = okws.Close(websocket.StatusNormalClosure, "")
	// No token: 401.
	_, resp, err = websocket.Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https")+"/api/v1/ws", dialOpts(t, s, "", nil))
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("no token: %v, %v", resp, err)
	}
}

// TestWebSocketFlood: more frames than the per-connection budget close the
// connection with 1008.
func TestWebSocketFlood(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	u := newCohort(ctx, t, s)
	ws := rawDial(ctx, t, s, u.alice.Token(), nil)
	go func() {
		for i := 0; i < 2000; i++ {
			if ws.Write(ctx, websocket.MessageText, []byte(`{"type":"nope"}`)) != nil {
				return
			}
		}
	}()
	for {
		_, _, err := ws.Read(ctx)
		if err != nil {
			if got := websocket.CloseStatus(err); got != websocket.StatusPolicyViolation {
				t.Fatalf("flood: close status %d (%v), want 1008", got, err)
			}
			return
		}
	}
}

// TestLogoutClosesWebSocket: ending a session closes its open WebSockets at
// once (A5), leaving the user's other sessions connected.
func TestLogoutClosesWebSocket(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	u := newCohort(ctx, t, s)
	conv, _ := u.alice.CreateConversation(ctx, "direct", []string{u.bob.UserID}, "")
	phone := s.Login(ctx, "alice")
	deskWS := dial(ctx, t, u.alice.Client)
	phoneWS := dial(ctx, t, phone)
	if err := u.alice.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := deskWS.Next(ctx)
	if got := client.CloseStatus(err); got != int(websocket.StatusPolicyViolation) {
		t.Fatalf("after logout: close status %d (%v), want 1008", got, err)
	}
	if _, err := u.bob.Send(ctx, conv, "after-logout", "still reaches the phone"); err != nil {
		t.Fatal(err)
	}
	if got := readMessages(ctx, t, phoneWS, 1)[0]; got.Body != "still reaches the phone" {
		t.Fatalf("phone got %+v", got)
	}
}

func dialOpts(t *testing.T, s *parleytest.Server, token string, hdr http.Header) *websocket.DialOptions {
	r := newRaw(t, s, token)
	h := http.Header{}
	for k, v := range hdr {
		h[k] = v
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	tr := r.http.Transport.(*http.Transport)
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	return &websocket.DialOptions{HTTPClient: r.http, HTTPHeader: h}
}

func rawDial(ctx context.Context, t *testing.T, s *parleytest.Server, token string, hdr http.Header) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https")+"/api/v1/ws", dialOpts(t, s, token, hdr))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return ws
}

func readJSON(ctx context.Context, t *testing.T, ws *websocket.Conn, v any) {
	t.Helper()
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("frame %q: %v", data, err)
	}
}
