package httpapi

import (
	"sync"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley"
)

// hub knows this node's WebSocket connections by user and by session. It
// hands each broker event's pre-encoded frame to the connections of its
// recipients without blocking: enqueue or disconnect (M2, slow consumers).
type hub struct {
	mu        sync.RWMutex
	byUser    map[parley.UserID]map[*wsConn]struct{}
	bySession map[string]map[*wsConn]struct{}
}

func newHub() *hub {
	return &hub{byUser: map[parley.UserID]map[*wsConn]struct{}{}, bySession: map[string]map[*wsConn]struct{}{}}
}

func addTo[K comparable](m map[K]map[*wsConn]struct{}, k K, c *wsConn) {
	set, ok := m[k]
	if !ok {
		set = map[*wsConn]struct{}{}
		m[k] = set
	}
	set[c] = struct{}{}
}

func removeFrom[K comparable](m map[K]map[*wsConn]struct{}, k K, c *wsConn) {
	if set, ok := m[k]; ok {
		delete(set, c)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

func (h *hub) add(c *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	addTo(h.byUser, c.actor.UserID, c)
	addTo(h.bySession, c.actor.SessionID, c)
}

func (h *hub) remove(c *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	removeFrom(h.byUser, c.actor.UserID, c)
	removeFrom(h.bySession, c.actor.SessionID, c)
}

func (h *hub) deliver(ev parley.Event) {
	it := outItem{kind: itemFrame, conv: ev.ConversationID, seq: ev.Seq, frame: ev.Frame}
	if ev.Seq > 0 {
		it.kind = itemLive
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, u := range ev.Recipients {
		for c := range h.byUser[u] {
			if c.id != ev.ExceptConn {
				c.enqueue(it)
			}
		}
	}
}

func (h *hub) closeSessions(ids []string, reason string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, id := range ids {
		for c := range h.bySession[id] {
			c.kill(websocket.StatusPolicyViolation, reason)
		}
	}
}

func (h *hub) closeAll() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, set := range h.byUser {
		for c := range set {
			c.kill(websocket.StatusGoingAway, "server shutting down")
		}
	}
}
