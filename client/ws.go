package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/wire"
)

// Conn is a live WebSocket connection to /api/v1/ws.
//
// Writes (Send, Sync, Typing, MarkRead) are safe for concurrent use:
// coder/websocket serialises concurrent writers. Reads (Next,
// SendAndWaitAck) must come from one goroutine at a time, and someone must
// keep reading: control frames (ping, close) are only processed while a
// read is in progress.
type Conn struct {
	ws *websocket.Conn
}

// Dial opens the WebSocket with the client's token. It sends no Origin
// header: this is not a browser, and the server checks Origin only for
// browsers. A refused upgrade (401, 403, 429 …) comes back as *APIError.
func (c *Client) Dial(ctx context.Context) (*Conn, error) {
	u := "wss" + strings.TrimPrefix(c.base, "https") + apiPrefix + "/ws"
	h := http.Header{}
	h.Set("User-Agent", c.userAgent)
	if tok := c.Token(); tok != "" {
		h.Set("Authorization", "Bearer "+tok)
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: c.wsHTTP, HTTPHeader: h})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode >= 300 {
			return nil, decodeAPIError(resp)
		}
		return nil, fmt.Errorf("client: websocket dial: %w", err)
	}
	// The server's frames obey the same bound as the client's (I2).
	ws.SetReadLimit(wire.MaxServerFrameBytes)
	return &Conn{ws: ws}, nil
}

// Send writes a send frame; the server answers with an ack frame (or an
// error frame echoing clientMsgID) once the message is stored.
func (c *Conn) Send(ctx context.Context, convID, clientMsgID, body string) error {
	return c.write(ctx, wire.ClientFrame{Type: wire.FrameSend, ConversationID: convID, ClientMsgID: clientMsgID, Body: &body})
}

// syncFrame always carries cursors, even empty, so the server never has to
// guess what a missing field means.
type syncFrame struct {
	Type    string           `json:"type"`
	Cursors map[string]int64 `json:"cursors"`
}

// Sync asks for every message after the given per-conversation seq; the
// server replays them in order, then sends a synced frame.
func (c *Conn) Sync(ctx context.Context, cursors map[string]int64) error {
	if cursors == nil {
		cursors = map[string]int64{}
	}
	return c.write(ctx, syncFrame{Type: wire.FrameSync, Cursors: cursors})
}

// Typing tells the other members that the caller is typing.
func (c *Conn) Typing(ctx context.Context, convID string) error {
	return c.write(ctx, wire.ClientFrame{Type: wire.FrameTyping, ConversationID: convID})
}

// MarkRead moves the caller's read marker to seq.
func (c *Conn) MarkRead(ctx context.Context, convID string, seq int64) error {
	return c.write(ctx, wire.ClientFrame{Type: wire.FrameRead, ConversationID: convID, Seq: seq})
}

// write sends one text frame. An oversize frame is refused here: the server
// would close the whole connection with 1009 for it.
func (c *Conn) write(ctx context.Context, frame any) error {
	data, err := json.Marshal(frame)
	if err != nil {
		return fmt.Errorf("client: encoding frame: %w", err)
	}
	if len(data) > wire.MaxFrameBytes {
		return &APIError{Code: "too_large", Message: fmt.Sprintf("frame of %d bytes exceeds the %d-byte limit", len(data), wire.MaxFrameBytes)}
	}
	return c.ws.Write(ctx, websocket.MessageText, data)
}

// Next reads and decodes the next frame. Unknown fields are accepted (the
// server may add some); a frame without a type is an error. As with
// coder/websocket, a context that ends while Next waits closes the
// connection: use a long-lived context for reading.
func (c *Conn) Next(ctx context.Context) (*wire.ServerFrame, error) {
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	if typ != websocket.MessageText {
		return nil, errors.New("client: unexpected binary frame")
	}
	var f wire.ServerFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("client: malformed frame: %w", err)
	}
	if f.Type == "" {
		return nil, errors.New("client: frame without a type")
	}
	return &f, nil
}

// SendAndWaitAck sends a message and reads until the server acknowledges it.
// It returns the ack and every other frame read meanwhile (messages,
// typing, …), in order, so the caller loses nothing. An error frame that
// echoes clientMsgID is returned as *APIError (Status 0) together with the
// frames read so far.
func (c *Conn) SendAndWaitAck(ctx context.Context, convID, clientMsgID, body string) (*wire.ServerFrame, []wire.ServerFrame, error) {
	if err := c.Send(ctx, convID, clientMsgID, body); err != nil {
		return nil, nil, err
	}
	var others []wire.ServerFrame
	for {
		f, err := c.Next(ctx)
		if err != nil {
			return nil, others, err
		}
		switch {
		case f.Type == wire.FrameAck && f.ClientMsgID == clientMsgID:
			return f, others, nil
		case f.Type == wire.FrameError && f.ClientMsgID == clientMsgID:
			return nil, others, &APIError{Code: f.Code, Message: f.Message}
		}
		others = append(others, *f)
	}
}

// Close closes the connection normally.
func (c *Conn) Close() error {
	return c.ws.Close(websocket.StatusNormalClosure, "")
}

// CloseStatus is the package function CloseStatus, for convenience.
func (c *Conn) CloseStatus(err error) int { return CloseStatus(err) }

// CloseStatus returns the WebSocket close code carried by a read error
// (for example 1008 policy violation or 1009 message too big), or -1 when
// err is not a close.
func CloseStatus(err error) int {
	return int(websocket.CloseStatus(err))
}
