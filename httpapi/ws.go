package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/time/rate"
)

// websocket upgrades an authenticated request (route perm already checked)
// after refusing foreign Origins: a browser page from another site must not
// ride the user's credentials (cross-site WebSocket hijacking, I4).
func (a *API) websocket(c *call) error {
	r := c.r
	if r.TLS == nil {
		return parley.Errorf(parley.CodeForbidden, "WebSocket is served over TLS only")
	}
	if origin := r.Header.Get("Origin"); origin != "" && !a.sameOrigin(origin, r.Host) {
		// The reason must be a parley error: deny records ErrorMessage,
		// which turns anything else into "internal error". %q keeps a
		// hostile Origin's control bytes out of the trail verbatim.
		a.deny(c, c.actor, &route{Method: "GET", Path: "/api/v1/ws"},
			parley.Errorf(parley.CodeForbidden, "foreign Origin %q", truncateParam(origin)))
		return parley.Errorf(parley.CodeForbidden, "Origin not allowed")
	}
	ws, err := websocket.Accept(c.w, r, &websocket.AcceptOptions{})
	if err != nil {
		return nil // Accept has answered the client
	}
	token, _ := bearer(r)
	conn := newWSConn(a, ws, c.actor, token, c.meta)
	conn.run()
	return nil
}

func (a *API) sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "https" {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	return a.cfg.PublicOrigin != "" && strings.EqualFold(strings.TrimSuffix(a.cfg.PublicOrigin, "/"), origin)
}

// Outgoing queue items. Message frames carry their conversation and seq so
// that the writer can keep each conversation's stream gap-free and free of
// duplicates across live delivery and sync.
const (
	itemFrame = iota // any frame; no sequencing
	itemLive         // a message frame from the broker
	itemAck          // the ack of this connection's own send
	itemSync         // a sync request
)

type outItem struct {
	kind    int
	conv    parley.ConversationID
	seq     int64
	frame   []byte
	cursors map[string]int64
}

// wsConn is one WebSocket connection. Three goroutines: the reader (run)
// decodes frames and submits sends in order; the acker waits for those
// sends in order and queues their acks; the writer owns the socket's write
// side and the per-conversation stream state.
type wsConn struct {
	id     string
	a      *API
	ws     *websocket.Conn
	actor  *parley.Actor
	token  string
	meta   parley.RequestMeta
	out    chan outItem
	acks   chan pendingAck
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	active sync.Mutex // guards userActive
	// userActive records a user action since the last revalidation, so the
	// session's idle clock moves only for what the user did (A5).
	userActive bool
	// writer-owned stream state
	last  map[parley.ConversationID]int64 // highest seq delivered
	first map[parley.ConversationID]int64 // first seq delivered live before any sync
}

type pendingAck struct {
	p           parley.PendingSend
	clientMsgID string
	err         error
}

func newWSConn(a *API, ws *websocket.Conn, actor *parley.Actor, token string, meta parley.RequestMeta) *wsConn {
	var b [12]byte
	_, _ = rand.Read(b[:])
	ctx, cancel := context.WithCancel(context.Background())
	act := *actor
	c := &wsConn{
		id: "w_" + hex.EncodeToString(b[:]), a: a, ws: ws, actor: &act, token: token, meta: meta,
		out: make(chan outItem, a.cfg.WSQueue), acks: make(chan pendingAck, 256),
		ctx: ctx, cancel: cancel,
		last: map[parley.ConversationID]int64{}, first: map[parley.ConversationID]int64{},
	}
	c.actor.ConnID = c.id
	ws.SetReadLimit(wire.MaxFrameBytes) // larger frames close with 1009
	return c
}

// enqueue never blocks: a connection that cannot keep up is closed, not
// waited on, so one slow client never delays the others.
func (c *wsConn) enqueue(it outItem) {
	select {
	case c.out <- it:
	default:
		c.kill(websocket.StatusPolicyViolation, "slow consumer")
	}
}

// kill closes the connection asynchronously (callers may hold hub locks).
// The close handshake runs first and only then is the context cancelled:
// cancelling a read aborts the socket, and the peer would see no close code.
func (c *wsConn) kill(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		go func() {
			_ = c.ws.Close(code, reason)
			c.cancel()
		}()
	})
}

func (c *wsConn) errorFrame(code parley.Code, msg, clientMsgID string) {
	b, _ := json.Marshal(wire.ErrorFrame{Type: wire.FrameError, Code: string(code), Message: msg, ClientMsgID: clientMsgID})
	c.enqueue(outItem{kind: itemFrame, frame: b})
}

func (c *wsConn) run() {
	c.a.hub.add(c)
	defer c.a.hub.remove(c)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); c.writeLoop() }()
	go func() { defer wg.Done(); c.ackLoop() }()
	go func() { defer wg.Done(); c.keepAlive() }()
	c.readLoop()
	c.kill(websocket.StatusNormalClosure, "")
	wg.Wait()
}

func (c *wsConn) readLoop() {
	lim := rate.NewLimiter(rate.Limit(c.a.cfg.WSFrameRate), c.a.cfg.WSFrameBurst)
	defer close(c.acks)
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			if websocket.CloseStatus(err) == -1 && c.ctx.Err() == nil {
				// Read limit exceeded, protocol error or network failure:
				// coder/websocket has already sent the close frame (1009 for
				// oversize), so just stop.
				c.kill(websocket.StatusPolicyViolation, "read error")
			}
			return
		}
		if !lim.Allow() {
			c.kill(websocket.StatusPolicyViolation, "too many frames")
			return
		}
		if typ != websocket.MessageText {
			c.kill(websocket.StatusUnsupportedData, "text frames only")
			return
		}
		var f wire.ClientFrame
		if err := wire.DecodeBytes(data, &f); err != nil {
			c.errorFrame(parley.CodeInvalid, err.Error(), "")
			continue
		}
		if err := wire.CheckClientFrame(&f); err != nil {
			c.errorFrame(parley.CodeInvalid, err.Error(), f.ClientMsgID)
			continue
		}
		c.handle(&f)
	}
}

func (c *wsConn) markActive() {
	c.active.Lock()
	c.userActive = true
	c.active.Unlock()
}

func (c *wsConn) handle(f *wire.ClientFrame) {
	ctx := c.ctx
	conv := parley.ConversationID(f.ConversationID)
	switch f.Type {
	case wire.FrameSend:
		c.markActive()
		p, err := c.a.svc.Chat.Submit(ctx, c.actor, conv, f.ClientMsgID, *f.Body)
		select {
		case c.acks <- pendingAck{p: p, clientMsgID: f.ClientMsgID, err: err}:
		case <-ctx.Done():
		}
	case wire.FrameSync:
		c.enqueue(outItem{kind: itemSync, cursors: f.Cursors})
	case wire.FrameTyping:
		c.markActive()
		if err := c.a.svc.Chat.Typing(ctx, c.actor, conv); err != nil {
			c.errorFrame(parley.ErrorCode(err), parley.ErrorMessage(err), "")
		}
	case wire.FrameRead:
		c.markActive()
		if err := c.a.svc.Chat.MarkRead(ctx, c.actor, conv, f.Seq); err != nil {
			c.errorFrame(parley.ErrorCode(err), parley.ErrorMessage(err), "")
		}
	}
}

// ackLoop waits for sends in the order they were submitted, so acks come
// back in send order, each only after its message is durable.
func (c *wsConn) ackLoop() {
	for pa := range c.acks {
		err := pa.err
		var res *parley.SendResult
		if err == nil {
			res, err = pa.p.Wait(c.ctx)
		}
		if err != nil {
			if c.ctx.Err() != nil {
				continue
			}
			c.errorFrame(parley.ErrorCode(err), parley.ErrorMessage(err), pa.clientMsgID)
			continue
		}
		m := res.Message
		b, _ := json.Marshal(wire.AckFrame{Type: wire.FrameAck, ClientMsgID: pa.clientMsgID, MessageID: string(m.ID), Seq: m.Seq})
		c.enqueue(outItem{kind: itemAck, conv: m.ConversationID, seq: m.Seq, frame: b})
	}
}

// keepAlive re-checks the session (revoked, expired, idle) and pings the
// peer at every interval; either failing closes the connection.
func (c *wsConn) keepAlive() {
	t := time.NewTicker(c.a.cfg.WSRevalidate)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.active.Lock()
		active := c.userActive
		c.userActive = false
		c.active.Unlock()
		actor, err := c.a.svc.Auth.Authenticate(c.ctx, c.token, c.meta, active)
		if err != nil {
			if c.ctx.Err() == nil {
				c.kill(websocket.StatusPolicyViolation, "session ended")
			}
			return
		}
		// The gates the upgrade passed must still hold: a password that
		// expired (A3) or an MFA policy that now covers the user (A2)
		// limits the session to a few REST operations, none of them the
		// WebSocket.
		if reason := wsGate(actor); reason != "" {
			c.kill(websocket.StatusPolicyViolation, reason)
			return
		}
		pctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
		err = c.ws.Ping(pctx)
		cancel()
		if err != nil {
			c.kill(websocket.StatusGoingAway, "ping timeout")
			return
		}
	}
}

// wsGate says why an authenticated session may no longer hold a WebSocket,
// or "" if it may.
func wsGate(a *parley.Actor) string {
	switch {
	case a.PasswordChangeRequired:
		return "password expired"
	case a.MFAEnrollmentPending:
		return "second factor required"
	case !authz.Holds(a, authz.PermConversationsRead):
		return "permission withdrawn"
	}
	return ""
}
