package httpapi

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

// writeLoop is the only writer of the socket. It keeps, per conversation,
// the highest seq this connection has delivered, and uses it so that the
// client sees every message once and none missing:
//   - a live message at or below that mark is dropped (already sent by sync);
//   - a live message above mark+1 first pulls the gap from the store;
//   - a sync sends what lies between the client's cursor and the newest
//     message, skipping what was already delivered live.
func (c *wsConn) writeLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case it := <-c.out:
			if err := c.handleOut(it); err != nil {
				c.kill(websocket.StatusInternalError, "write failed")
				return
			}
		}
	}
}

func (c *wsConn) write(frame []byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, frame)
}

func (c *wsConn) handleOut(it outItem) error {
	switch it.kind {
	case itemFrame:
		return c.write(it.frame)
	case itemLive, itemAck:
		base, known := c.last[it.conv]
		if known && it.seq <= base {
			if it.kind == itemAck {
				return c.write(it.frame) // an ack is always due
			}
			return nil
		}
		if known && it.seq > base+1 {
			if err := c.fill(it.conv, base, it.seq-1); err != nil {
				return err
			}
		}
		if !known {
			c.first[it.conv] = it.seq
		}
		c.last[it.conv] = it.seq
		return c.write(it.frame)
	case itemSync:
		return c.sync(it.cursors)
	}
	return nil
}

func (c *wsConn) sync(cursors map[string]int64) error {
	ids := make([]string, 0, len(cursors))
	for id := range cursors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	// One read of the caller's conversations answers every cursor naming
	// a conversation they are not in, so a frame of 1000 made-up IDs costs
	// one query instead of 1000 (a cheap frame must not buy costly work).
	mine := map[parley.ConversationID]bool{}
	convs, err := c.a.svc.Chat.Conversations(c.ctx, c.actor)
	if err != nil {
		return err
	}
	for _, cv := range convs {
		mine[cv.ID] = true
	}
	for _, id := range ids {
		conv, cursor := parley.ConversationID(id), cursors[id]
		if !mine[conv] {
			b, _ := json.Marshal(wire.ErrorFrame{Type: wire.FrameError, Code: string(parley.CodeNotFound), Message: "conversation not found"})
			if err := c.write(b); err != nil {
				return err
			}
			continue
		}
		base, known := c.last[conv]
		if known {
			// Messages below the first live one were never delivered.
			if f := c.first[conv]; f > 0 && cursor < f-1 {
				if err := c.fill(conv, cursor, f-1); err != nil {
					return err
				}
			}
			cursor = max(cursor, base)
		}
		delete(c.first, conv)
		if err := c.fill(conv, cursor, -1); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(wire.SyncedFrame{Type: wire.FrameSynced})
	return c.write(b)
}

// fill sends the stored messages with after < seq <= upto (upto < 0: all)
// and raises the conversation's mark. A conversation the actor is not in
// yields an error frame, not an error: the connection stays open.
func (c *wsConn) fill(conv parley.ConversationID, after, upto int64) error {
	const page = 200
	for upto < 0 || after < upto {
		msgs, err := c.a.svc.Chat.History(c.ctx, c.actor, conv, after, 0, page)
		if err != nil {
			if c.ctx.Err() != nil {
				return err
			}
			b, _ := json.Marshal(wire.ErrorFrame{Type: wire.FrameError, Code: string(parley.ErrorCode(err)), Message: parley.ErrorMessage(err)})
			return c.write(b)
		}
		for _, m := range msgs {
			if upto >= 0 && m.Seq > upto {
				return nil
			}
			b, _ := json.Marshal(wire.MessageFrame{Type: wire.FrameMessage, ConversationID: string(conv), MessageID: string(m.ID),
				Seq: m.Seq, SenderID: string(m.SenderID), Body: string(m.Body), SentAt: m.SentAt, Recalled: !m.RecalledAt.IsZero()})
			if err := c.write(b); err != nil {
				return err
			}
			after = m.Seq
			if after > c.last[conv] {
				c.last[conv] = after
			}
		}
		if len(msgs) < page {
			return nil
		}
	}
	return nil
}
