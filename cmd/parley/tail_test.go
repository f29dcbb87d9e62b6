package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/wire"
)

// expectSync reads the client's sync frame and returns its cursors.
func expectSync(t *testing.T, c *websocket.Conn) map[string]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Errorf("reading sync: %v", err)
		return nil
	}
	var f struct {
		Type    string           `json:"type"`
		Cursors map[string]int64 `json:"cursors"`
	}
	if err := json.Unmarshal(data, &f); err != nil || f.Type != "sync" {
		t.Errorf("first frame %s, want sync", data)
	}
	return f.Cursors
}

func sendFrame(t *testing.T, c *websocket.Conn, s string) {
	if err := c.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		t.Errorf("write: %v", err)
	}
}

func msgFrame(seq int64) string {
	return fmt.Sprintf(`{"type":"message","conversation_id":"c1","message_id":"m%d","seq":%d,"sender_id":"u2","body":"msg %d","sent_at":"2026-01-01T12:00:00Z"}`, seq, seq, seq)
}

// TestTailReconnects: a connection drops mid-stream; tail reconnects,
// syncs from the last seq it printed, drops the replayed duplicate, fills
// a gap from history, and prints every message exactly once, in order.
func TestTailReconnects(t *testing.T) {
	f, c := loggedIn(t)
	syncs := make(chan map[string]int64, 2)
	f.ws <- func(ws *websocket.Conn) {
		syncs <- expectSync(t, ws)
		sendFrame(t, ws, `{"type":"synced"}`)
		f.addMessage(5, "u2", "msg 5")
		sendFrame(t, ws, msgFrame(5))
		f.addMessage(6, "u2", "msg 6")
		sendFrame(t, ws, msgFrame(6))
		sendFrame(t, ws, `{"type":"typing","conversation_id":"c1","user_id":"u2"}`)
		_ = ws.Close(websocket.StatusGoingAway, "restart")
	}
	done := make(chan struct{})
	f.ws <- func(ws *websocket.Conn) {
		syncs <- expectSync(t, ws)
		f.addMessage(7, "u2", "msg 7")
		sendFrame(t, ws, msgFrame(6)) // replayed: already printed
		sendFrame(t, ws, msgFrame(7))
		sendFrame(t, ws, `{"type":"synced"}`)
		f.addMessage(8, "u2", "msg 8") // never pushed: a gap
		f.addMessage(9, "u2", "msg 9")
		sendFrame(t, ws, msgFrame(9))
		sendFrame(t, ws, `{"type":"error","code":"invalid","message":"bad frame"}`)
		<-done
	}

	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"tail", "--json", "c1"}, c.env("", &out, &errb)) }()

	deadline := time.After(20 * time.Second)
	for strings.Count(out.String(), "\n") < 5 {
		select {
		case <-deadline:
			t.Fatalf("timed out; stdout %q stderr %q", out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	close(done)
	cancel()
	if code := <-exit; code != 0 {
		t.Errorf("exit %d; stderr %q", code, errb.String())
	}

	var seqs []int64
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m wire.MessageFrame
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if m.Body != fmt.Sprintf("msg %d", m.Seq) || m.ConversationID != "c1" {
			t.Errorf("line %q", line)
		}
		seqs = append(seqs, m.Seq)
	}
	if fmt.Sprint(seqs) != "[5 6 7 8 9]" {
		t.Errorf("printed seqs %v, want [5 6 7 8 9]", seqs)
	}
	if s := <-syncs; s["c1"] != 4 {
		t.Errorf("first sync cursors %v, want c1:4", s)
	}
	if s := <-syncs; s["c1"] != 6 {
		t.Errorf("second sync cursors %v, want c1:6", s)
	}
	for _, want := range []string{"reconnecting in", "reconnected", "parley: server: bad frame (invalid)"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr %q lacks %q", errb.String(), want)
		}
	}
}

func TestTailUnknownConversation(t *testing.T) {
	_, c := loggedIn(t)
	code, _, stderr := c.run("", "tail", "nope")
	if code != 1 || !strings.Contains(stderr, "(not_found)") {
		t.Errorf("got %d %q", code, stderr)
	}
}

func TestTailStopsWhenSessionEnds(t *testing.T) {
	f, c := loggedIn(t)
	f.mu.Lock()
	clear(f.tokens) // the session is revoked after the CLI loaded it
	f.mu.Unlock()
	code, _, stderr := c.run("", "tail")
	if code != 1 || !strings.Contains(stderr, "(unauthenticated)") {
		t.Errorf("got %d %q", code, stderr)
	}
}

func TestTailerBackoff(t *testing.T) {
	tl := newTailer(nil, nil, nil)
	for attempt := range 30 {
		d := tl.backoff(attempt)
		if d <= 0 || d > tl.maxDelay {
			t.Errorf("backoff(%d) = %v", attempt, d)
		}
	}
	if d := tl.backoff(0); d > tl.minDelay {
		t.Errorf("backoff(0) = %v > %v", d, tl.minDelay)
	}
}

func TestTailerHandleFilters(t *testing.T) {
	var out syncBuffer
	tl := newTailer(nil, &out, &out)
	tl.json = true
	tl.only = map[string]bool{"c1": true}
	tl.cursors["c1"] = 3
	ctx := t.Context()
	for _, f := range []wire.ServerFrame{
		{Type: "message", ConversationID: "c2", Seq: 1}, // not followed
		{Type: "message", ConversationID: "c1", Seq: 3}, // duplicate
		{Type: "message", ConversationID: "c1", Seq: 2}, // old
		{Type: "message", ConversationID: "c1", Seq: 4, Body: "new"},
	} {
		if err := tl.handle(ctx, &f); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(out.String(), "\n"); n != 1 || !strings.Contains(out.String(), `"seq":4`) || tl.cursors["c1"] != 4 {
		t.Errorf("printed %q, cursor %d", out.String(), tl.cursors["c1"])
	}
}
