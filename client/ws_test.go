package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/wire"
)

// wsServer is a tiny WebSocket peer: it hands every text frame it receives
// to the test and sends what the test queues.
type wsServer struct {
	t      *testing.T
	header chan http.Header
	recv   chan string
	send   chan string
	close  chan websocket.StatusCode
}

func newWSServer(t *testing.T) *wsServer {
	return &wsServer{t: t, header: make(chan http.Header, 4), recv: make(chan string, 16),
		send: make(chan string, 16), close: make(chan websocket.StatusCode, 1)}
}

func (s *wsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/ws" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer good" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"error":{"code":"unauthenticated","message":"log in"}}`))
		return
	}
	s.header <- r.Header.Clone()
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.t.Error(err)
		return
	}
	defer ws.CloseNow()
	ctx := r.Context()
	go func() {
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				return
			}
			s.recv <- string(data)
		}
	}()
	for {
		select {
		case msg := <-s.send:
			if err := ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
				return
			}
		case code := <-s.close:
			_ = ws.Close(code, "bye")
			return
		case <-ctx.Done():
			return
		}
	}
}

func (s *wsServer) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-s.recv:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("server received nothing")
		return ""
	}
}

func dialTest(t *testing.T) (*wsServer, *Conn) {
	t.Helper()
	s := newWSServer(t)
	_, c := newTestServer(t, s, WithToken("good"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	conn, err := c.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.ws.CloseNow() })
	return s, conn
}

func TestDialHeaders(t *testing.T) {
	s, _ := dialTest(t)
	h := <-s.header
	if h.Get("Origin") != "" {
		t.Errorf("Origin sent: %q", h.Get("Origin"))
	}
	if !strings.HasPrefix(h.Get("User-Agent"), "parley-go-client") {
		t.Errorf("User-Agent = %q", h.Get("User-Agent"))
	}
}

func TestDialRefused(t *testing.T) {
	_, c := newTestServer(t, newWSServer(t), WithToken("bad"))
	_, err := c.Dial(context.Background())
	var e *APIError
	if !errors.As(err, &e) || e.Status != 401 || e.Code != "unauthenticated" {
		t.Fatalf("err = %v, want APIError 401 unauthenticated", err)
	}
}

func TestFrameEncoding(t *testing.T) {
	s, conn := dialTest(t)
	ctx := context.Background()
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"send", func() error { return conn.Send(ctx, "c1", "cm1", "hi <b>") },
			`{"type":"send","conversation_id":"c1","client_msg_id":"cm1","body":"hi \u003cb\u003e"}`},
		{"send empty body", func() error { return conn.Send(ctx, "c1", "cm2", "") },
			`{"type":"send","conversation_id":"c1","client_msg_id":"cm2","body":""}`},
		{"sync", func() error { return conn.Sync(ctx, map[string]int64{"c1": 3, "c2": 0}) },
			`{"type":"sync","cursors":{"c1":3,"c2":0}}`},
		{"sync nothing", func() error { return conn.Sync(ctx, nil) }, `{"type":"sync","cursors":{}}`},
		{"typing", func() error { return conn.Typing(ctx, "c1") }, `{"type":"typing","conversation_id":"c1"}`},
		{"read", func() error { return conn.MarkRead(ctx, "c1", 7) }, `{"type":"read","conversation_id":"c1","seq":7}`},
	}
	for _, tt := range tests {
		if err := tt.do(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := s.next(t); got != tt.want {
			t.Errorf("%s: sent %s, want %s", tt.name, got, tt.want)
		}
	}
	// A frame the server would punish with 1009 is refused locally.
	err := conn.Send(ctx, "c1", "big", strings.Repeat("x", wire.MaxFrameBytes))
	if !IsCode(err, "too_large") {
		t.Fatalf("oversize send: %v", err)
	}
}

func TestSendAndWaitAck(t *testing.T) {
	s, conn := dialTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.send <- `{"type":"typing","conversation_id":"c1","user_id":"u2"}`
	s.send <- `{"type":"message","conversation_id":"c1","message_id":"m9","seq":9,"sender_id":"u2","body":"yo","sent_at":"2026-01-01T00:00:00Z","future_field":1}`
	s.send <- `{"type":"ack","client_msg_id":"other","message_id":"m0","seq":8}`
	s.send <- `{"type":"ack","client_msg_id":"cm1","message_id":"m10","seq":10}`
	ack, others, err := conn.SendAndWaitAck(ctx, "c1", "cm1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	if ack.MessageID != "m10" || ack.Seq != 10 {
		t.Errorf("ack = %+v", ack)
	}
	if len(others) != 3 || others[0].Type != wire.FrameTyping || others[1].Body != "yo" || others[1].SentAt.IsZero() || others[2].ClientMsgID != "other" {
		t.Errorf("others = %+v", others)
	}
	s.next(t) // the send frame

	s.send <- `{"type":"error","code":"invalid","message":"body too long","client_msg_id":"cm2"}`
	_, _, err = conn.SendAndWaitAck(ctx, "c1", "cm2", "hi")
	var e *APIError
	if !errors.As(err, &e) || e.Code != "invalid" || e.Status != 0 {
		t.Fatalf("err = %v, want APIError invalid", err)
	}
}

func TestNextErrors(t *testing.T) {
	s, conn := dialTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.send <- `{"conversation_id":"c1"}`
	if _, err := conn.Next(ctx); err == nil {
		t.Error("frame without type accepted")
	}
	s.send <- `not json`
	if _, err := conn.Next(ctx); err == nil {
		t.Error("malformed frame accepted")
	}
	s.close <- websocket.StatusPolicyViolation
	_, err := conn.Next(ctx)
	if got := CloseStatus(err); got != 1008 {
		t.Errorf("CloseStatus = %d (%v), want 1008", got, err)
	}
	if conn.CloseStatus(err) != 1008 {
		t.Error("method disagrees with function")
	}
	if CloseStatus(errors.New("x")) != -1 {
		t.Error("CloseStatus of a non-close error")
	}
}

func TestReadLimit(t *testing.T) {
	s, conn := dialTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.send <- `{"type":"message","body":"` + strings.Repeat("x", wire.MaxServerFrameBytes) + `"}`
	if _, err := conn.Next(ctx); err == nil {
		t.Fatal("oversize frame accepted")
	}
}

func TestCloseNormal(t *testing.T) {
	_, conn := dialTest(t)
	done := make(chan error, 1)
	go func() { done <- conn.Close() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
}
